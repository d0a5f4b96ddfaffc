import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { BadInputError } from '../../domain/errors.js';
import { ClientGoneError, TooLargeError, UnsupportedTypeError } from './errors.js';

/** The one file of an upload, with the form's optional title. */
export interface Upload {
  data: Buffer;
  filename: string;
  /** The part's declared content type. */
  mimeType: string;
  title: string | null;
}

export interface ReadUploadOptions {
  /** Largest file accepted; the part is counted as it streams and refused one byte past it. */
  maxFileBytes: number;
  /** The whole body must be in this long after the headers, else 'too-slow'. */
  timeoutMs: number;
}

/** Room for the multipart boundaries, part headers and the title around the file. */
const FORM_OVERHEAD_BYTES = 64 * 1024;
const MAX_TITLE_BYTES = 4096;

/**
 * Reads a multipart/form-data upload with one file in the field `file` and an optional field
 * `title`. Nothing past the limit is kept: a Content-Length over it is refused before any byte
 * is read, and the stream is counted as it arrives (busboy's fileSize limit for the file, a
 * counter for the whole body), so an oversize upload never sits in memory. Throws
 * TooLargeError, BadInputError (no file, a second file, a malformed form),
 * UnsupportedTypeError (not multipart) or ClientGoneError (the connection closed mid-body);
 * resolves 'too-slow' when the body trickles in.
 */
export function readUpload(
  req: IncomingMessage,
  opts: ReadUploadOptions,
): Promise<Upload | 'too-slow'> {
  const contentType = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data\b/i.test(contentType)) {
    return Promise.reject(
      new UnsupportedTypeError(
        `Upload a document as multipart/form-data with the file in a field named "file" (curl -F file=@report.pdf), but got ${contentType ? `"${contentType.split(';')[0]}"` : 'no content type'}`,
        { got: contentType || null },
      ),
    );
  }
  const maxBody = opts.maxFileBytes + FORM_OVERHEAD_BYTES;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBody) {
    return Promise.reject(new TooLargeError(opts.maxFileBytes, declared, { ofRequest: true }));
  }

  return new Promise((resolve, reject) => {
    let settled = false;
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        // Browsers and curl send file names as raw UTF-8; busboy's latin1 default garbled them.
        defParamCharset: 'utf8',
        limits: {
          files: 1,
          fileSize: opts.maxFileBytes,
          fields: 4,
          fieldSize: MAX_TITLE_BYTES,
          parts: 8,
        },
      });
    } catch (err) {
      reject(new BadInputError(`Malformed multipart request: ${(err as Error).message}`));
      return;
    }
    let file: Upload | null = null;
    let fileDone: Promise<unknown> | null = null;
    let title: string | null = null;
    let received = 0;

    const finish = (outcome: Upload | 'too-slow' | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', count);
      req.unpipe(parser);
      // The rest of a refused body is read and dropped, never kept.
      if (outcome instanceof Error || outcome === 'too-slow') req.resume();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const timer = setTimeout(() => finish('too-slow'), opts.timeoutMs);
    const count = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBody) finish(new TooLargeError(opts.maxFileBytes));
    };
    req.on('data', count);

    parser.on('file', (field, stream, info) => {
      if (field !== 'file' || file) {
        stream.resume();
        // busboy names a part with no field name undefined: it read 'got a file in "undefined"'.
        const got =
          field === 'file'
            ? 'a second file'
            : field
              ? `a file in ${JSON.stringify(field)}`
              : 'a file in a field with no name';
        finish(new BadInputError(`Send exactly one file, in the field "file"; got ${got}`));
        return;
      }
      const parts: Buffer[] = [];
      let size = 0;
      fileDone = new Promise((done) => stream.on('end', done).on('error', done));
      // A form that ends inside the file errors its stream too: unheard, it crashed the process.
      stream.on('error', (err: Error) =>
        finish(new BadInputError(`Malformed multipart request: ${err.message}`)),
      );
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        parts.push(chunk);
      });
      stream.on('limit', () => finish(new TooLargeError(opts.maxFileBytes)));
      stream.on('end', () => {
        file = {
          data: Buffer.concat(parts, size),
          filename: info.filename ?? 'document',
          mimeType: info.mimeType,
          title: null,
        };
      });
    });
    parser.on('field', (name, value, info) => {
      if (name !== 'title') return;
      if (info.valueTruncated) {
        finish(new BadInputError(`The title may have at most ${MAX_TITLE_BYTES} bytes`));
        return;
      }
      title = value;
    });
    parser.on('filesLimit', () =>
      finish(new BadInputError('Send exactly one file, in the field "file"; got a second file')),
    );
    parser.on('partsLimit', () => finish(new BadInputError('The form has too many parts')));
    parser.on('fieldsLimit', () => finish(new BadInputError('The form has too many fields')));
    parser.on('error', (err: Error) =>
      finish(new BadInputError(`Malformed multipart request: ${err.message}`)),
    );
    parser.on('close', () => {
      if (!fileDone) {
        finish(new BadInputError('No file in the upload: send it in a form field named "file"'));
        return;
      }
      void fileDone.then(() => finish({ ...(file as Upload), title }));
    });
    // Node's "aborted" (ECONNRESET): the client hung up; not a failure of the server's.
    req.on('error', (err: NodeJS.ErrnoException) =>
      finish(err.code === 'ECONNRESET' ? new ClientGoneError() : err),
    );
    req.pipe(parser);
  });
}
