import { Tag } from 'antd';
import type { Role } from '../api';

const COLORS: Record<Role, string> = { creator: 'gold', dev: 'blue', ops: 'green' };

export default function RoleTag({ role }: { role: Role }) {
  return <Tag color={COLORS[role] ?? 'default'}>{role}</Tag>;
}
