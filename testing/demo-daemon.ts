// The demo launcher starts the demo daemon the same way; the code lives beside the daemon.
export * from '../demo/demo-daemon-process';
