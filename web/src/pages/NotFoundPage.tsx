import { Button, Result } from 'antd';
import { useLocation, useNavigate } from 'react-router';
import { areaOf } from '../areas';

/** Unknown paths, and areas of the platform whose pages are not built yet. */
export default function NotFoundPage() {
  const location = useLocation();
  const navigate = useNavigate();
  const area = areaOf(location.pathname);
  const back = (
    <Button type="primary" onClick={() => navigate('/projects')}>
      Go to projects
    </Button>
  );
  if (area && !area.available) {
    return (
      <Result
        status="info"
        data-testid="area-not-available"
        title={`${area.label}: not available yet`}
        subTitle={`${area.about} This part of Quader has no web page yet.`}
        extra={back}
      />
    );
  }
  return <Result status="404" title="Page not found" subTitle={`Nothing lives at ${location.pathname}.`} extra={back} />;
}
