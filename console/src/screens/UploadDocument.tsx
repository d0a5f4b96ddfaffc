import { useEffect, useRef, useState } from 'react';
import { ApiError } from '../api';
import { graphql } from '../gql';
import { useSession } from '../session';
import { ErrorNote } from '../components/ErrorNote';

/* Uploading a document and following its ingestion (the Knowledge screen's upload panel). */

const DocumentQuery = graphql(`
  query KnowledgeDocument($id: ID!) {
    document(id: $id) {
      id
      title
      status
      progress {
        chunks
        ingested
        failed
        status
      }
    }
  }
`);

const ProgressSubscription = graphql(`
  subscription KnowledgeDocumentProgress($id: ID!) {
    documentProgress(id: $id) {
      documentId
      chunks
      ingested
      failed
      status
    }
  }
`);

interface Progress {
  chunks: number;
  ingested: number;
  failed: number;
  status: 'INGESTING' | 'INGESTED' | 'FAILED';
}

/** The upload's refusals in words the person can act on (415, 413). */
function explain(err: unknown): unknown {
  if (!(err instanceof ApiError)) return err;
  if (err.code === 'UNSUPPORTED_MEDIA_TYPE')
    return new ApiError(err.message, err.code, 'Upload a .txt, .md or .pdf file.');
  if (err.code === 'PAYLOAD_TOO_LARGE' || err.code === 'LIMIT_EXCEEDED')
    return new ApiError(
      err.message,
      err.code,
      'Split the document into smaller files and upload each.',
    );
  return err;
}

export function UploadDocument({ onIngested }: { onIngested(): void }) {
  const { api } = useSession();
  const [file, setFile] = useState<File | null>(null);
  const [title, setTitle] = useState('');
  const [sent, setSent] = useState<number | null>(null);
  // `known`: the tenant had sent the same text before (the API answers that document).
  const [doc, setDoc] = useState<{ id: string; title: string; known: boolean } | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const unsubscribe = useRef<(() => void) | null>(null);
  const done = progress?.status === 'INGESTED' || progress?.status === 'FAILED';

  useEffect(() => () => unsubscribe.current?.(), []);
  useEffect(() => {
    if (!done) return;
    unsubscribe.current?.();
    unsubscribe.current = null;
    if (progress?.status === 'INGESTED') onIngested();
    // Once, when the ingestion ends.
  }, [done]);

  // The subscription starts a moment after it is asked for: an end in between is only seen by
  // a read, so read again every few seconds until the end is known.
  useEffect(() => {
    if (!doc || done) return;
    const timer = setInterval(() => {
      api.request(DocumentQuery, { id: doc.id }).then(
        ({ document }) => merge({ ...document.progress, status: document.status }),
        () => {},
      );
    }, 5_000);
    return () => clearInterval(timer);
  }, [doc?.id, done]);

  // Events and the reads may arrive in any order: a final status wins, else the furthest.
  const merge = (next: Progress) =>
    setProgress((cur) => {
      if (!cur || next.status !== 'INGESTING')
        return cur && cur.status !== 'INGESTING' ? cur : next;
      if (cur.status !== 'INGESTING') return cur;
      return next.ingested + next.failed >= cur.ingested + cur.failed ? next : cur;
    });

  const submit = async () => {
    if (!file) return;
    unsubscribe.current?.();
    setBusy(true);
    setError(undefined);
    setDoc(null);
    setProgress(null);
    setSent(0);
    try {
      const { id, created } = await api.upload(file, title.trim(), setSent);
      const known = !created;
      setDoc({ id, title: title.trim() || file.name, known });
      // Subscribe first, then read once: the document may have finished already.
      unsubscribe.current = api.subscribe(
        ProgressSubscription,
        { id },
        (d) => merge(d.documentProgress),
        setError,
      );
      const { document } = await api.request(DocumentQuery, { id });
      setDoc({ id, title: document.title, known });
      merge({ ...document.progress, status: document.status });
    } catch (err) {
      setError(explain(err));
    } finally {
      setBusy(false);
    }
  };

  const handled = progress ? progress.ingested + progress.failed : 0;
  return (
    <section aria-label="Upload a document" className="panel">
      <h2>Upload a document</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label htmlFor="knowledge-document">Document</label>
        <input
          id="knowledge-document"
          type="file"
          accept=".txt,.md,.pdf,text/plain,text/markdown,application/pdf"
          onChange={(e) => setFile(e.target.files?.[0] ?? null)}
        />
        <label htmlFor="knowledge-document-title">Title</label>
        <input
          id="knowledge-document-title"
          value={title}
          onChange={(e) => setTitle(e.target.value)}
          placeholder={file?.name ?? 'optional: the file name by default'}
        />
        <p className="muted">Text, Markdown or PDF. Memory reads it in chunks in the background.</p>
        <button type="submit" disabled={busy || !file}>
          {busy ? 'Uploading…' : 'Upload'}
        </button>
      </form>
      {sent !== null && (
        <p>
          <progress aria-label="Upload progress" max={1} value={sent} />
          Sent {Math.round(sent * 100)}%
        </p>
      )}
      {doc && progress && (
        <p>
          <progress
            aria-label="Ingestion progress"
            max={Math.max(progress.chunks, 1)}
            value={handled}
          />
          {progress.ingested} of {progress.chunks} chunks
          {progress.failed > 0 && `, ${progress.failed} failed`}
        </p>
      )}
      {doc?.known && (
        <p className="muted">
          {doc.title} was uploaded before: memory holds its text already (only chunks that failed
          are read again).
        </p>
      )}
      {doc && !progress && !error && <p className="muted">Waiting for ingestion to start…</p>}
      {doc && progress?.status === 'INGESTED' && <p role="status">{`Ingested ${doc.title}`}</p>}
      {doc && progress?.status === 'FAILED' && (
        <ErrorNote
          error={
            new ApiError(
              `Ingesting ${doc.title} failed: ${progress.failed} of ${progress.chunks} chunks could not be read.`,
              'FAILED',
              'Check the API’s log for the episodes’ errors, then upload it again.',
            )
          }
        />
      )}
      {error !== undefined && <ErrorNote error={error} />}
    </section>
  );
}
