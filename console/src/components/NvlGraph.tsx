import { InteractiveNvlWrapper } from '@neo4j-nvl/react';
import type { Node, Relationship } from '@neo4j-nvl/base';
import { useEffect, useMemo, useRef } from 'react';
import type NVL from '@neo4j-nvl/base';

import type { GraphViewProps } from './GraphView';

/**
 * A graph drawn by Neo4j's own visualisation library (NVL), so the console looks like Neo4j
 * Browser. Canvas renderer (captions and arrows); no telemetry, the console makes no call but
 * to its API. The canvas is not accessible: screens show the same things in a table beside it.
 */
export default function NvlGraph(props: GraphViewProps) {
  const nodes = useMemo<Node[]>(
    () =>
      props.nodes.map((n) => ({
        id: n.id,
        caption: n.caption,
        color: n.color,
        size: n.size ?? 28,
      })),
    [props.nodes],
  );
  // NVL draws only relationships whose ends it has.
  const rels = useMemo<Relationship[]>(() => {
    const known = new Set(props.nodes.map((n) => n.id));
    return props.rels
      .filter((r) => known.has(r.from) && known.has(r.to))
      .map((r) => ({ id: r.id, from: r.from, to: r.to, caption: r.caption }));
  }, [props.nodes, props.rels]);
  const onNodeClick = props.onNodeClick;
  const nvl = useRef<NVL>(null);
  // Every node in view: once the layout settles, and again after the graph changes.
  const fitAll = () =>
    nvl.current?.fit(
      nvl.current.getNodes().map((n) => n.id),
      { animated: false },
    );
  useEffect(() => {
    const timer = setTimeout(fitAll, 400);
    return () => clearTimeout(timer);
  }, [nodes, rels]);
  return (
    <figure className="graph" aria-label={props.label}>
      <InteractiveNvlWrapper
        ref={nvl}
        nodes={nodes}
        rels={rels}
        layout={props.hierarchical ? 'hierarchical' : 'forceDirected'}
        nvlOptions={{
          renderer: 'canvas',
          // The force layout on the CPU: WebGL without a GPU (headless, remote desktops) stalls the page.
          disableWebGL: true,
          disableTelemetry: true,
          // Plans are small: their layout in the page is instant, and a worker's layout was lost.
          disableWebWorkers: true,
          initialZoom: 1,
        }}
        nvlCallbacks={{ onLayoutDone: fitAll }}
        mouseEventCallbacks={{
          onZoom: true,
          onPan: true,
          onDrag: true,
          ...(onNodeClick ? { onNodeClick: (node: Node) => onNodeClick(node.id) } : {}),
        }}
        style={{ width: '100%', height: '100%' }}
      />
      <figcaption className="muted">{props.label}</figcaption>
    </figure>
  );
}
