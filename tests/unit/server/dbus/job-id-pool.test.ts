import { type IssuedJobId, JobIdPool } from '../../../../server/dbus/job-id-pool';

/**
 * Job ids fetched ahead of the calls that use them: a call may only ever start its job with an
 * id of the daemon instance running now, and the pool fetches nothing before it is used.
 */
function fakeDaemon(owner: { name: string | undefined }) {
  let counter = 0;
  const fetched: IssuedJobId[] = [];
  let failing = false;
  const fetchId = async (): Promise<IssuedJobId> => {
    if (failing || owner.name === undefined) throw new Error('org.freedesktop.DBus.Error.ServiceUnknown');
    const id = { jobId: ++counter, owner: owner.name };
    fetched.push(id);
    return id;
  };
  return { fetchId, fetched, fail: (value: boolean) => (failing = value) };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test('nothing is fetched before the first call; then the pool is filled and used', async () => {
  const owner = { name: ':1.5' as string | undefined };
  const daemon = fakeDaemon(owner);
  const pool = new JobIdPool(daemon.fetchId, () => owner.name, 4);
  await settle();
  expect(daemon.fetched).toHaveLength(0);
  expect(pool.take()).toBeUndefined(); // the first call asks for its own id
  await settle();
  expect(pool.available).toBe(4);
  const taken = pool.take();
  expect(taken).toEqual({ jobId: 1, owner: ':1.5' });
  await settle();
  expect(pool.available).toBe(4); // topped up again
  expect(new Set(daemon.fetched.map((id) => id.jobId)).size).toBe(daemon.fetched.length);
});

test('ids of a daemon that left are never handed out', async () => {
  const owner = { name: ':1.5' as string | undefined };
  const daemon = fakeDaemon(owner);
  const pool = new JobIdPool(daemon.fetchId, () => owner.name, 3);
  pool.take();
  await settle();
  expect(pool.available).toBe(3);
  // A new daemon took the name, and the bus connection has not told the pool yet.
  owner.name = ':1.9';
  const taken = pool.take();
  expect(taken).toBeUndefined();
  await settle();
  expect(pool.take()?.owner).toBe(':1.9');
});

test('clear() forgets every id, and a fetch under way when it was called is not kept', async () => {
  const owner = ':1.5';
  const answers: ((id: IssuedJobId) => void)[] = [];
  const fetchId = () => new Promise<IssuedJobId>((resolve) => answers.push(resolve));
  const pool = new JobIdPool(fetchId, () => owner, 2);
  pool.take();
  await settle(); // the refill has asked for two ids, not answered yet
  expect(answers).toHaveLength(2);
  answers[0]({ jobId: 1, owner });
  await settle();
  expect(pool.available).toBe(1);
  pool.clear();
  expect(pool.available).toBe(0);
  answers[1]({ jobId: 2, owner }); // asked before clear(): dropped
  await settle();
  expect(pool.available).toBe(0);
});

test('without a daemon nothing is fetched, and failed fetches are only a missed head start', async () => {
  const owner = { name: undefined as string | undefined };
  const daemon = fakeDaemon(owner);
  const pool = new JobIdPool(daemon.fetchId, () => owner.name, 2);
  expect(pool.take()).toBeUndefined();
  await settle();
  expect(daemon.fetched).toHaveLength(0);
  owner.name = ':1.7';
  daemon.fail(true);
  expect(pool.take()).toBeUndefined();
  await settle();
  expect(pool.available).toBe(0);
  daemon.fail(false);
  pool.take();
  await settle();
  expect(pool.available).toBe(2);
});
