/** Why an alarm request was refused; the HTTP layer maps each reason to a status code. */
export type AlarmErrorReason = 'not_found' | 'invalid' | 'conflict';

export class AlarmError extends Error {
  constructor(
    readonly reason: AlarmErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'AlarmError';
  }
}
