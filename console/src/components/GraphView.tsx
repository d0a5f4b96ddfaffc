import { lazy, Suspense } from 'react';

export interface GraphNode {
  id: string;
  caption: string;
  color?: string;
  size?: number;
}

export interface GraphRel {
  id: string;
  from: string;
  to: string;
  caption?: string;
}

export interface GraphViewProps {
  label: string;
  nodes: GraphNode[];
  rels: GraphRel[];
  hierarchical?: boolean;
  onNodeClick?: (id: string) => void;
}

// NVL is most of the console's code: it loads with the first graph, not with the sign-in page.
const NvlGraph = lazy(() => import('./NvlGraph'));

/** A graph drawn with Neo4j's NVL (./NvlGraph.tsx), loaded on first use. */
export function GraphView(props: GraphViewProps) {
  return (
    <Suspense fallback={<p className="graph muted">Drawing the graph…</p>}>
      <NvlGraph {...props} />
    </Suspense>
  );
}
