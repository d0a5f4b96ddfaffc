import { AppError } from '../../domain/errors.js';

/** The file's type is none the API can read (HTTP 415). */
export class UnsupportedTypeError extends AppError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('UNSUPPORTED_MEDIA_TYPE', message, details);
  }
}

/**
 * The file or text is over DOCUMENT_MAX_BYTES (HTTP 413): `got` is its length, or with
 * `ofRequest` the whole request body's (its Content-Length: the form around the file too).
 */
export class TooLargeError extends AppError {
  constructor(limitBytes: number, got?: number, { ofRequest = false } = {}) {
    super(
      'PAYLOAD_TOO_LARGE',
      `A document may have at most ${limitBytes} bytes (DOCUMENT_MAX_BYTES)` +
        (got === undefined
          ? '; this one is larger'
          : ofRequest
            ? `, but this request's body has ${got} bytes`
            : `, but got ${got}`),
      { limitBytes },
    );
  }
}

/**
 * The client closed the connection before its upload arrived: no one is left to answer, and
 * nothing failed on the server's side (logged as a warning, audited with this code).
 */
export class ClientGoneError extends AppError {
  constructor() {
    super('CLIENT_CLOSED_REQUEST', 'The client closed the connection before the upload ended');
  }
}
