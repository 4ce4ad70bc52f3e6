import { Alert, Button, Card, Form, Input, Spin, Typography } from 'antd';
import { LockOutlined, UserOutlined } from '@ant-design/icons';
import { useEffect, useState } from 'react';
import { Navigate, useSearchParams } from 'react-router';
import { errorText, getToken } from '../api';
import { safeNext, useAuth } from '../auth';

interface LoginForm {
  username: string;
  password: string;
}

/**
 * The sign-in form. `?next=URL` (set by the gateway for a notebook) is followed after
 * signing in — or at once when already signed in — when safeNext accepts it; any other
 * value is ignored.
 */
export default function LoginPage() {
  const { me, login } = useAuth();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (me && getToken()) return next ? <GoingTo url={next} /> : <Navigate to="/projects" replace />;

  const onFinish = async (v: LoginForm) => {
    setBusy(true);
    setError(null);
    try {
      await login(v.username, v.password, next);
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

/** Leaves the app for `url` (a page on the gateway, outside this single-page app). */
function GoingTo({ url }: { url: string }) {
  useEffect(() => {
    window.location.assign(url);
  }, [url]);
  return (
    <div style={{ display: 'flex', justifyContent: 'center', marginTop: 120 }} data-testid="login-next">
      <Spin size="large" tip={`Opening ${url}`}>
        <div style={{ width: 320, height: 60 }} />
      </Spin>
    </div>
  );
}
