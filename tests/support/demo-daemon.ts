// The demo launcher starts the demo daemon the same way; the code lives beside the daemon.
export * from '../../server/demo/demo-daemon-process';
