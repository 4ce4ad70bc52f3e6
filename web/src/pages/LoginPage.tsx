import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { LockOutlined, UserOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { Navigate } from 'react-router';
import { errorText, getToken } from '../api';
import { useAuth } from '../auth';

interface LoginForm {
  username: string;
  password: string;
}

export default function LoginPage() {
  const { me, login } = useAuth();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (me && getToken()) return <Navigate to="/projects" replace />;

  const onFinish = async (v: LoginForm) => {
    setBusy(true);
    setError(null);
    try {
      await login(v.username, v.password);
    } catch (e) {
      setError(errorText(e));
      setBusy(false);
    }
  };

  return (
    <div style={{ minHeight: '100vh', display: 'flex', alignItems: 'center', justifyContent: 'center', background: '#f5f5f5' }}>
      <Card style={{ width: 380 }}>
        <Typography.Title level={3} style={{ textAlign: 'center', marginTop: 0 }}>
          Quader
        </Typography.Title>
        <Typography.Paragraph type="secondary" style={{ textAlign: 'center' }}>
          Sign in to the machine-learning platform
        </Typography.Paragraph>
        <Form<LoginForm> layout="vertical" onFinish={onFinish} requiredMark={false} data-testid="login-form">
          <Form.Item label="Username" name="username" rules={[{ required: true, message: 'Enter your username' }]}>
            <Input prefix={<UserOutlined />} autoComplete="username" autoFocus data-testid="login-username" />
          </Form.Item>
          <Form.Item label="Password" name="password" rules={[{ required: true, message: 'Enter your password' }]}>
            <Input.Password prefix={<LockOutlined />} autoComplete="current-password" data-testid="login-password" />
          </Form.Item>
          {error && (
            <Form.Item>
              <Alert type="error" showIcon message={error} role="alert" data-testid="login-error" />
            </Form.Item>
          )}
          <Form.Item style={{ marginBottom: 0 }}>
            <Button type="primary" htmlType="submit" block loading={busy} data-testid="login-submit">
              Sign in
            </Button>
          </Form.Item>
        </Form>
      </Card>
    </div>
  );
}
