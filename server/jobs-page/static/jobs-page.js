// The jobs page: polls the job list, streams a job's log. Every text that comes from a call or
// a log goes into the page through textContent, never as markup.
'use strict';

(() => {
  const POLL_MS = 2000;
  const BAD_LINE = /\b(error|errors|failed|failure|cannot|denied|fatal|not found)\b/i;
  const $ = (id) => document.getElementById(id);
  const outcomeFilter = $('outcome-filter');
  const operationFilter = $('operation-filter');
  const rows = document.querySelector('#jobs tbody');
  let jobs = [];
  let shownText = '';
  let openJob = null; // the history id of the job whose log is shown
  let stream = null;

  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  const { formatDuration, formatTimestamp } = globalThis.jobsPageFormat;

  // The page's own URLs, without the user and password an operator may have typed into the
  // address (http://user:password@host/...): fetch() refuses any URL that holds credentials,
  // and a relative one inherits them from the page. The browser still sends the login it made
  // for the page.
  const pageUrl = (path) => {
    const url = new URL(path, location.href);
    url.username = '';
    url.password = '';
    return url.href;
  };

  function row(job) {
    const tr = el('tr', `outcome-${job.outcome}`);
    tr.dataset.id = String(job.id);
    if (job.id === openJob) tr.classList.add('selected');
    const open = el('button', 'job-link', job.jobId === null ? '—' : `#${job.jobId}`);
    open.type = 'button';
    open.title = 'Show the log';
    open.addEventListener('click', () => openLog(job.id));
    const args = el('td', 'args');
    for (const arg of job.arguments) {
      const span = el('span', 'arg', `${arg.name}=${arg.short.replace(/\n/g, ' ')}`);
      span.title = `${arg.name}:\n${arg.full}`;
      args.append(span, ' ');
    }
    const started = new Date(job.startedAt);
    const time = el('time', '', formatTimestamp(started));
    time.dateTime = job.startedAt;
    time.title = `${job.startedAt.replace('T', ' ').replace(/\.\d+Z$/, '')} UTC`;
    const outcome = el('span', `badge ${job.outcome}`, job.outcome);
    if (job.message) outcome.title = job.message;
    const cells = [open, el('code', '', job.operation), null, job.user ?? '—', job.client ?? '—', time, formatDuration(job.durationMs), outcome];
    for (const cell of cells) {
      if (cell === null) tr.append(args);
      else tr.append(typeof cell === 'string' ? el('td', '', cell) : wrap(cell));
    }
    tr.addEventListener('click', (event) => {
      if (!event.target.closest('button')) openLog(job.id);
    });
    return tr;
  }
  const wrap = (node) => {
    const td = el('td');
    td.append(node);
    return td;
  };

  async function refresh() {
    const query = new URLSearchParams();
    if (outcomeFilter.value) query.set('outcome', outcomeFilter.value);
    if (operationFilter.value) query.set('operation', operationFilter.value);
    try {
      const response = await fetch(pageUrl(`api/jobs?${query}`), { cache: 'no-store' });
      if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
      const text = await response.text();
      if (text !== shownText) render(JSON.parse(text), text);
    } catch (error) {
      $('summary').textContent = `The gateway did not answer: ${error.message}`;
    }
  }

  function render(data, text) {
    shownText = text;
    jobs = data.jobs;
    const daemon = $('daemon');
    daemon.className = `daemon ${data.daemonReady ? 'ready' : 'absent'}`;
    daemon.textContent = data.daemonReady ? 'disnix-service: ready' : 'disnix-service: not on the bus';
    rows.replaceChildren(...jobs.map(row));
    const filtered = outcomeFilter.value || operationFilter.value ? ' matching the filters' : '';
    $('summary').textContent =
      jobs.length === 0
        ? `No jobs${filtered} yet.`
        : `${jobs.length} job${jobs.length === 1 ? '' : 's'}${filtered}, most recent first (the gateway keeps the last ${data.historyLimit}).`;
  }

  // The log: lines as spans, so that failures can be marked; the last, unfinished line is
  // replaced as more of it arrives.
  const log = $('log');
  let partial = '';
  let partialLine = null;
  function addLine(text, className) {
    const line = el('span', className || (BAD_LINE.test(text) ? 'line bad' : 'line'), text);
    log.append(line);
    return line;
  }
  function appendText(text) {
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    const lines = (partial + text).split('\n');
    partial = lines.pop();
    partialLine?.remove();
    partialLine = null;
    for (const line of lines) addLine(`${line}\n`);
    if (partial) partialLine = addLine(partial);
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  function openLog(id) {
    const job = jobs.find((j) => j.id === id);
    if (!job) return;
    closeLog();
    openJob = id;
    for (const tr of rows.children) tr.classList.toggle('selected', tr.dataset.id === String(id));
    const panel = $('log-panel');
    panel.hidden = false;
    panel.className = 'running';
    panel.scrollIntoView({ block: 'nearest' });
    $('log-title').textContent = job.jobId === null ? `Call to ${job.operation}` : `Job ${job.jobId}: ${job.operation}`;
    history.replaceState(null, '', job.jobId === null ? '#' : `#job-${job.jobId}`);
    if (job.jobId === null) {
      // Never reached the daemon: there is no log, only the reason.
      $('log-raw').hidden = true;
      ended(job.outcome, job.message);
      addLine(job.message || '(no message)', 'line bad');
      return;
    }
    $('log-raw').hidden = false;
    $('log-raw').href = pageUrl(`api/jobs/${job.jobId}/log`);
    $('log-status').textContent = 'Running: the log follows live…';
    stream = new EventSource(pageUrl(`api/jobs/${job.jobId}/log/stream`));
    stream.addEventListener('log', (event) => appendText(JSON.parse(event.data).text));
    stream.addEventListener('notice', (event) => addLine(`${JSON.parse(event.data).text}\n`, 'line notice'));
    stream.addEventListener('end', (event) => {
      stream.close();
      stream = null;
      const message = jobs.find((j) => j.id === id)?.message;
      ended(JSON.parse(event.data).outcome, message);
      void refresh();
    });
    stream.addEventListener('error', () => {
      if (stream?.readyState === EventSource.CONNECTING) $('log-status').textContent = 'Connection lost; reconnecting…';
    });
  }

  function ended(outcome, message) {
    const failed = outcome !== 'success';
    $('log-panel').className = failed ? 'failed' : 'succeeded';
    $('log-status').textContent = failed ? `This job ended: ${outcome}${message ? ` — ${message}` : ''}` : 'This job succeeded.';
    if (failed) {
      // The daemon writes the reason for a failure last.
      const lines = [...log.querySelectorAll('.line:not(.notice)')].filter((l) => l.textContent.trim() !== '');
      lines.at(-1)?.classList.add('bad');
    }
  }

  function closeLog() {
    stream?.close();
    stream = null;
    openJob = null;
    partial = '';
    partialLine = null;
    log.replaceChildren();
    $('log-panel').hidden = true;
    for (const tr of rows.children) tr.classList.remove('selected');
  }

  $('log-close').addEventListener('click', () => {
    closeLog();
    history.replaceState(null, '', '#');
  });
  for (const code of document.querySelectorAll('#operations code')) {
    operationFilter.append(new Option(code.textContent, code.textContent));
  }
  for (const select of [outcomeFilter, operationFilter]) select.addEventListener('change', () => void refresh());

  void refresh().then(() => {
    const wanted = /^#job-(\d+)$/.exec(location.hash);
    const job = wanted && jobs.find((j) => j.jobId === Number(wanted[1]));
    if (job) openLog(job.id);
  });
  setInterval(() => void refresh(), POLL_MS);
})();
