#!/usr/bin/python3
"""A second SOAP stack's client for DisnixWebService: python3-zeep (Debian package
`python3-zeep`, for /usr/bin/python3) builds its client from the WSDL alone, so this script
shows that other stacks can use the contract, and lets tests call a gateway through it.

Usage:
  zeep-client.py --describe WSDL
  zeep-client.py [--endpoint URL] [--timeout SECONDS] WSDL OPERATION [ARGS_JSON]
  zeep-client.py --envelope WSDL OPERATION [ARGS_JSON]

  WSDL        a URL (http://host:port/DisnixWebService/services/DisnixWebService?wsdl)
              or a local file path.
  OPERATION   a SOAP operation name, as in wsdl/operations.ts (e.g. printInvalid).
  ARGS_JSON   the operation's parts as one JSON value (default {}), either an object keyed
              by part name ({"profile": "default", "derivation": "/nix/store/..."}) or an
              array in part order (["default", "/nix/store/..."]). List parts take arrays;
              a boolean part takes true/false, an int part a number. A binary part
              (xs:base64Binary: file contents) takes a base64 string, or {"path": FILE} to
              send the bytes of a local file; a list of them takes an array of either.

  --describe  prints, without calling anything, what zeep made of the WSDL, as JSON:
              {"services": [{"name", "ports": [{"name", "binding", "soap", "transport",
               "address", "operations": [{"name", "style", "soapAction",
               "input": {"element", "parts": [PART...]},
               "output": {"element", "parts": [PART...]}}]}]}]}
              with PART = {"name", "namespace", "type", "minOccurs", "maxOccurs"}
              (maxOccurs is a number or "unbounded"; type is "{namespace}localName").
  --envelope  prints the SOAP request envelope zeep would send (XML), without sending it.
  --endpoint  calls this URL instead of the WSDL's soap:address.
  --timeout   gives up a call after SECONDS (default: waits as long as the call takes;
              loading the WSDL times out after 300 s).

Environment:
  DISNIX_USER, DISNIX_PASSWORD  HTTP basic auth credentials, sent (preemptively) for both
                                loading the WSDL and the calls when DISNIX_USER is set.
  REQUESTS_CA_BUNDLE            CA bundle to trust for https (the requests library's own).

Output and exit status:
  0  the result, as one JSON value on stdout: null for an operation without a result, a
     string, or an array (possibly empty) of strings; binary results (xs:base64Binary) come
     as base64 strings.
  2  the call returned a SOAP Fault: stdout is {"fault": FAULTSTRING}.
  1  anything else (bad usage, unknown operation, WSDL not loadable, HTTP or connection
     error): a message on stderr.
"""

import argparse
import base64
import json
import os
import sys

try:
    import requests
    import zeep
    import zeep.exceptions
    import zeep.helpers
    from lxml import etree
except ImportError as err:  # pragma: no cover - depends on the machine
    sys.stderr.write(
        "zeep-client.py: %s: install the Debian package python3-zeep and run this script "
        "with /usr/bin/python3\n" % err
    )
    sys.exit(1)

XSD = "http://www.w3.org/2001/XMLSchema"
BASE64 = "{%s}base64Binary" % XSD
STRING = "{%s}string" % XSD


class UsageError(Exception):
    pass


def make_client(wsdl, timeout):
    session = requests.Session()
    user = os.environ.get("DISNIX_USER")
    if user:
        session.auth = (user, os.environ.get("DISNIX_PASSWORD", ""))
    transport = zeep.Transport(session=session, timeout=300, operation_timeout=timeout)
    settings = zeep.Settings(strict=True, xml_huge_tree=True)
    return zeep.Client(wsdl, transport=transport, settings=settings)


def qname_text(qname):
    return None if qname is None else str(etree.QName(qname))


def describe_parts(body):
    if body is None:
        return {"element": None, "parts": []}
    parts = []
    for name, element in body.type.elements:
        parts.append(
            {
                "name": name,
                "namespace": etree.QName(element.qname).namespace if element.qname is not None else None,
                "type": qname_text(element.type.qname),
                "minOccurs": element.min_occurs,
                "maxOccurs": element.max_occurs,
            }
        )
    return {"element": qname_text(body.qname), "parts": parts}


def describe(client):
    services = []
    for service_name, service in client.wsdl.services.items():
        ports = []
        for port_name, port in service.ports.items():
            binding = port.binding
            operations = []
            for op_name, op in binding._operations.items():
                operations.append(
                    {
                        "name": op_name,
                        "style": op.style,
                        "soapAction": op.soapaction,
                        "input": describe_parts(op.input.body if op.input is not None else None),
                        "output": describe_parts(op.output.body if op.output is not None else None),
                    }
                )
            ports.append(
                {
                    "name": port_name,
                    "binding": qname_text(binding.name),
                    "soap": "1.2" if type(binding).__name__ == "Soap12Binding" else "1.1",
                    "transport": getattr(binding, "transport", None),
                    "address": port.binding_options.get("address"),
                    "operations": operations,
                }
            )
        services.append({"name": service_name, "ports": ports})
    return {"services": services}


def find_operation(client, name):
    binding = client.service._binding
    try:
        return binding.get(name)
    except (ValueError, KeyError, AttributeError):
        known = ", ".join(sorted(binding._operations))
        raise UsageError("unknown operation %r; the WSDL declares: %s" % (name, known))


def binary_value(value, part):
    if isinstance(value, dict) and set(value) == {"path"}:
        with open(value["path"], "rb") as handle:
            return handle.read()
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except ValueError:
            raise UsageError("part %r: not base64: %r" % (part, value[:40]))
    raise UsageError('part %r: give a base64 string or {"path": FILE}' % part)


def build_kwargs(operation, args):
    elements = operation.input.body.type.elements
    names = [name for name, _ in elements]
    if isinstance(args, list):
        if len(args) > len(names):
            raise UsageError("%s takes %d parts (%s), got %d" % (operation.name, len(names), ", ".join(names), len(args)))
        args = dict(zip(names, args))
    if not isinstance(args, dict):
        raise UsageError("ARGS_JSON must be a JSON object or array")
    unknown = [key for key in args if key not in names]
    if unknown:
        raise UsageError("%s has no part %s; its parts: %s" % (operation.name, ", ".join(unknown), ", ".join(names)))
    kwargs = {}
    for name, element in elements:
        if name not in args:
            continue
        value = args[name]
        if qname_text(element.type.qname) == BASE64 and value is not None:
            if isinstance(value, list):
                value = [binary_value(item, name) for item in value]
            else:
                value = binary_value(value, name)
        kwargs[name] = value
    return kwargs


def normalize(operation, result):
    """zeep reads an empty required xs:string `return` as None; make that "" so that null
    stays reserved for operations without a result. Lists come as lists already ([] when
    empty)."""
    elements = operation.output.body.type.elements if operation.output is not None else []
    if result is None and len(elements) == 1:
        _, element = elements[0]
        if element.max_occurs == 1 and element.min_occurs == 1 and qname_text(element.type.qname) == STRING:
            return ""
    return result


def to_json(value):
    value = zeep.helpers.serialize_object(value)

    def default(item):
        if isinstance(item, (bytes, bytearray)):
            return base64.b64encode(item).decode("ascii")
        return str(item)

    return json.dumps(value, default=default)


def main(argv):
    parser = argparse.ArgumentParser(
        prog="zeep-client.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--describe", action="store_true")
    parser.add_argument("--envelope", action="store_true")
    parser.add_argument("--endpoint")
    parser.add_argument("--timeout", type=float)
    parser.add_argument("wsdl")
    parser.add_argument("operation", nargs="?")
    parser.add_argument("args", nargs="?", default="{}")
    options = parser.parse_args(argv)
    try:
        client = make_client(options.wsdl, options.timeout)
        if options.describe:
            print(json.dumps(describe(client), indent=2))
            return 0
        if not options.operation:
            raise UsageError("OPERATION is missing")
        try:
            args = json.loads(options.args)
        except ValueError as err:
            raise UsageError("ARGS_JSON is not JSON: %s" % err)
        operation = find_operation(client, options.operation)
        kwargs = build_kwargs(operation, args)
        if options.envelope:
            message = client.create_message(client.service, options.operation, **kwargs)
            print(etree.tostring(message, encoding="unicode"))
            return 0
        service = client.service
        if options.endpoint:
            service = client.create_service(client.service._binding.name, options.endpoint)
        result = getattr(service, options.operation)(**kwargs)
        print(to_json(normalize(operation, result)))
        return 0
    except zeep.exceptions.Fault as fault:
        print(json.dumps({"fault": fault.message}))
        return 2
    except UsageError as err:
        sys.stderr.write("zeep-client.py: %s\n" % err)
        return 1
    except zeep.exceptions.TransportError as err:
        sys.stderr.write("zeep-client.py: HTTP %s: %s\n" % (err.status_code, err.message))
        return 1
    except Exception as err:  # connection refused, invalid WSDL, validation errors, ...
        sys.stderr.write("zeep-client.py: %s: %s\n" % (type(err).__name__, err))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
