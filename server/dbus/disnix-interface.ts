/** Names under which disnix-service publishes its deployment interface on D-Bus. */
export const DISNIX_BUS_NAME = 'org.nixos.disnix.Disnix';
export const DISNIX_OBJECT_PATH = '/org/nixos/disnix/Disnix';
export const DISNIX_INTERFACE = 'org.nixos.disnix.Disnix';

/** The signals that end a job; each carries the job id as its first argument. */
export const JOB_SIGNALS = ['finish', 'success', 'failure'] as const;
export type JobSignal = (typeof JOB_SIGNALS)[number];
