import { useCallback, useEffect, useRef, useState } from 'react';
import type { TypedDocumentString } from './gql/graphql';
import { useSession } from './session';

/**
 * A query's data, error and loading state; reload() asks again. While other variables are
 * asked for, the data of the last ones stays (no flicker); once that fails, it goes: data never
 * stands for variables it was not read with. `dataKey` names the variables of `data`.
 */
export function useQuery<TResult, TVars>(
  doc: TypedDocumentString<TResult, TVars>,
  variables?: TVars,
) {
  const { api, reconnects } = useSession();
  const [state, setState] = useState<{
    data?: TResult;
    dataKey?: string;
    error?: unknown;
    loading: boolean;
  }>({ loading: true });
  const key = JSON.stringify(variables ?? {});
  const latest = useRef(0);
  const reload = useCallback(() => {
    const call = ++latest.current;
    setState((s) => ({ ...s, loading: true }));
    api.request(doc, variables).then(
      (data) => call === latest.current && setState({ data, dataKey: key, loading: false }),
      (error: unknown) =>
        call === latest.current &&
        setState((s) =>
          s.dataKey === key ? { ...s, error, loading: false } : { error, loading: false },
        ),
    );
    // Variables count by value (their JSON), not by identity; a reconnection asks again.
  }, [api, doc, key, reconnects]);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

/** Calls onData for each event of a subscription while the component is mounted. */
export function useSubscription<TResult, TVars>(
  doc: TypedDocumentString<TResult, TVars>,
  variables: TVars,
  onData: (data: TResult) => void,
  enabled = true,
) {
  const { api } = useSession();
  const handler = useRef(onData);
  handler.current = onData;
  const [error, setError] = useState<unknown>();
  const key = JSON.stringify(variables);
  useEffect(() => {
    if (!enabled) return;
    return api.subscribe(doc, variables, (data) => handler.current(data), setError);
    // Variables count by value (their JSON), not by identity.
  }, [api, doc, key, enabled]);
  return error;
}

/** Runs a mutation with busy and error state for a button or a form. */
export function useMutation<TResult, TVars>(doc: TypedDocumentString<TResult, TVars>) {
  const { api } = useSession();
  const [state, setState] = useState<{ busy: boolean; error?: unknown }>({ busy: false });
  const run = useCallback(
    async (variables: TVars): Promise<TResult | undefined> => {
      setState({ busy: true });
      try {
        const data = await api.request(doc, variables);
        setState({ busy: false });
        return data;
      } catch (error) {
        setState({ busy: false, error });
        return undefined;
      }
    },
    [api, doc],
  );
  return { ...state, run };
}
