import { Drawer } from 'antd';
import type { CSSProperties, ReactNode } from 'react';
import { MONO } from './images';

/**
 * The look of a block of machine text (a log, YAML): light monospace on dark, wrapped,
 * scrolling inside itself. Callers add their own height limits.
 */
export const CODE_BLOCK_STYLE: CSSProperties = {
  margin: 0,
  overflow: 'auto',
  padding: 12,
  background: '#141414',
  color: '#e6e6e6',
  borderRadius: 6,
  fontFamily: MONO,
  fontSize: 12.5,
  lineHeight: 1.5,
  whiteSpace: 'pre-wrap',
  wordBreak: 'break-all',
};

/**
 * The drawer a list row opens for one of its objects (a notebook's log, an object's
 * Kubernetes manifests): wide, from the right, its content rebuilt each time it opens.
 * `testId` goes on the drawer's panel (its content wrapper).
 */
export default function SideDrawer(props: { title: ReactNode; open: boolean; onClose: () => void; testId?: string; children: ReactNode }) {
  return (
    <Drawer
      title={props.title}
      open={props.open}
      onClose={props.onClose}
      width={920}
      destroyOnHidden
      data-testid={props.testId}
    >
      {props.children}
    </Drawer>
  );
}
