import { BaseEdge, useNodes, type EdgeProps } from '@xyflow/react';
import { useMemo } from 'react';
import { NODE_HEIGHT, NODE_WIDTH } from './dag';
import { routeAround, roundedPath, type Rect } from './route';

/**
 * A dependency edge that goes around the nodes between its two tasks (a task two rows
 * down is not reached through the one in between): the straight line, with a detour
 * down the nearer side of each node it would cross (route.ts). `data-edge` names it
 * for the browser tests.
 */
export function RoutedEdge({ id, source, target, sourceX, sourceY, targetX, targetY, markerEnd, style, interactionWidth }: EdgeProps) {
  const nodes = useNodes();
  const path = useMemo(() => {
    const lo = { x: Math.min(sourceX, targetX), y: Math.min(sourceY, targetY) };
    const hi = { x: Math.max(sourceX, targetX), y: Math.max(sourceY, targetY) };
    const obstacles: Rect[] = [];
    for (const n of nodes) {
      if (n.id === source || n.id === target || n.hidden) continue;
      const r = { x: n.position.x, y: n.position.y, width: n.measured?.width ?? NODE_WIDTH, height: n.measured?.height ?? NODE_HEIGHT };
      // Only nodes near the straight line's box can be in the way (the detours stay close).
      const reach = r.width + r.height;
      if (r.x > hi.x + reach || r.x + r.width < lo.x - reach || r.y > hi.y || r.y + r.height < lo.y) continue;
      obstacles.push(r);
    }
    return roundedPath(routeAround({ x: sourceX, y: sourceY }, { x: targetX, y: targetY }, obstacles));
  }, [nodes, source, target, sourceX, sourceY, targetX, targetY]);
  return <BaseEdge id={id} path={path} markerEnd={markerEnd} style={style} interactionWidth={interactionWidth} data-edge={id} />;
}

export const edgeTypes = { routed: RoutedEdge };
