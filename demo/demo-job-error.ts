/**
 * A job failure whose message is meant for the job's log (and so for the SOAP Fault a gateway
 * makes of it). Any other exception in a job is a bug or an I/O error and is logged as such.
 */
export class JobError extends Error {
  override readonly name = 'JobError';
}

export function errorText(error: unknown): string {
  if (error instanceof JobError) return error.message;
  if (error instanceof Error) return `error: ${error.message}`;
  return `error: ${String(error)}`;
}
