import type { DemoLayout } from './demo-layout';
import { addDerivation, addStorePath, listStorePaths } from './demo-store';

/**
 * Gives an empty store something to deploy: a service with a library dependency and a
 * configuration file, a profile (manifest) deploying it with the echo module, a slow build
 * and a broken one.
 */
export async function seedStore(layout: DemoLayout): Promise<void> {
  if ((await listStorePaths(layout)).length > 0) return;
  const config = await addStorePath(layout, 'hello-world-config', 'greeting=Hello world\n');
  const library = await addDerivation(layout, { name: 'hello-world-lib' });
  const service = await addDerivation(layout, { name: 'hello-world-service', references: [library, config] });
  await addStorePath(layout, 'hello-world-profile', { manifest: manifest('hello-world-service', service.slice(0, -4)) });
  await addDerivation(layout, { name: 'slow-service', buildMs: 5000 });
  await addDerivation(layout, { name: 'broken-service', fail: 'hello.c:1:1: error: expected declaration' });
}

/** A Disnix profile manifest (version 2) of one service on this machine. */
function manifest(name: string, pkg: string): string {
  return `<?xml version="1.0"?>
<profilemanifest version="2">
  <services>
    <service name="${name}">
      <name>${name}</name>
      <pkg>${pkg}</pkg>
      <type>echo</type>
      <dependsOn/>
      <connectsTo/>
      <providesContainers/>
    </service>
  </services>
  <serviceMappings>
    <mapping>
      <service>${name}</service>
      <container>echo</container>
      <target>localhost</target>
    </mapping>
  </serviceMappings>
  <snapshotMappings/>
</profilemanifest>
`;
}
