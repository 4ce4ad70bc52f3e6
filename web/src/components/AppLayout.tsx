import { Button, Layout, Menu, Space, Tag, Tooltip, Typography } from 'antd';
import { LogoutOutlined, UserOutlined } from '@ant-design/icons';
import type { MenuProps } from 'antd';
import { Outlet, useLocation, useNavigate } from 'react-router';
import { AREAS, areaOf } from '../areas';
import { useAuth } from '../auth';
import { confirmLeave } from './leaveGuard';

const { Header, Sider, Content } = Layout;

export default function AppLayout() {
  const { me, logout } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const isAdmin = me?.user.admin ?? false;

  const items: MenuProps['items'] = AREAS.filter((a) => !a.adminOnly || isAdmin).map((a) => ({
    key: a.key,
    icon: a.icon,
    disabled: !a.available,
    title: a.available ? a.label : `${a.label} (not available yet)`,
    'data-testid': `nav-${a.key}`,
    label: a.available ? (
      a.label
    ) : (
      <Space size={6}>
        <span>{a.label}</span>
        <Tag color="default" bordered={false} data-testid={`soon-${a.key}`}>
          soon
        </Tag>
      </Space>
    ),
  }));

  const current = areaOf(location.pathname)?.key ?? 'projects';

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Sider width={256} theme="light" breakpoint="lg" collapsedWidth={0} style={{ borderRight: '1px solid #f0f0f0' }}>
        <div
          style={{ height: 56, display: 'flex', alignItems: 'center', padding: '0 24px', cursor: 'pointer' }}
          onClick={() => confirmLeave() && navigate('/projects')}
        >
          <Typography.Title level={4} style={{ margin: 0 }}>
            Quader
          </Typography.Title>
        </div>
        <Menu
          mode="inline"
          aria-label="Platform areas"
          data-testid="side-menu"
          selectedKeys={[current]}
          items={items}
          onClick={({ key }) => {
            const area = AREAS.find((a) => a.key === key);
            if (area?.available && confirmLeave()) navigate(area.path);
          }}
          style={{ borderInlineEnd: 'none' }}
        />
      </Sider>
      <Layout>
        <Header
          style={{
            background: '#fff',
            borderBottom: '1px solid #f0f0f0',
            display: 'flex',
            justifyContent: 'flex-end',
            alignItems: 'center',
            padding: '0 24px',
          }}
        >
          <Space size="middle">
            <Space size={6}>
              <UserOutlined />
              <span data-testid="current-user">{me?.user.username ?? ''}</span>
              {isAdmin && <Tag color="blue">admin</Tag>}
            </Space>
            <Tooltip title="Sign out">
              <Button icon={<LogoutOutlined />} onClick={() => void logout()} data-testid="logout">
                Log out
              </Button>
            </Tooltip>
          </Space>
        </Header>
        <Content style={{ padding: 24 }}>
          <Outlet />
        </Content>
      </Layout>
    </Layout>
  );
}
