import type { ReactNode } from 'react';
import {
  ApiOutlined,
  AppstoreOutlined,
  DatabaseOutlined,
  ApartmentOutlined,
  CloudServerOutlined,
  CodeOutlined,
  ClockCircleOutlined,
  ExperimentOutlined,
  FileTextOutlined,
  PlayCircleOutlined,
  ProjectOutlined,
  TeamOutlined,
} from '@ant-design/icons';

/**
 * Every area of the platform, in menu order. An area with `available: false` shows in
 * the side menu as a disabled item tagged "soon"; it has no page yet. To open an area,
 * build its page under src/pages/, add its <Route> in App.tsx and set `available: true`
 * (see docs/web-ui.md).
 */
export interface Area {
  key: string;
  label: string;
  path: string;
  icon: ReactNode;
  available: boolean;
  adminOnly?: boolean;
  /** What the area is for (shown on its "not available yet" page). */
  about: string;
}

export const AREAS: Area[] = [
  {
    key: 'projects',
    label: 'Projects',
    path: '/projects',
    icon: <ProjectOutlined />,
    available: true,
    about: 'Project groups, their members and roles, and the expand settings their work runs with.',
  },
  {
    key: 'notebooks',
    label: 'Notebooks',
    path: '/notebooks',
    icon: <CodeOutlined />,
    available: true,
    about: 'Jupyter or VS Code in the browser with your personal work directory mounted.',
  },
  {
    key: 'images',
    label: 'Images',
    path: '/images',
    icon: <AppstoreOutlined />,
    available: true,
    about: 'Build and keep the images that reproduce an environment.',
  },
  {
    key: 'templates',
    label: 'Job templates',
    path: '/templates',
    icon: <FileTextOutlined />,
    available: true,
    about: 'Reusable task types with typed parameters, resources, env and mounts.',
  },
  {
    key: 'pipelines',
    label: 'Pipelines',
    path: '/pipelines',
    icon: <ApartmentOutlined />,
    available: true,
    about: 'DAGs of tasks built from job templates.',
  },
  {
    key: 'runs',
    label: 'Runs',
    path: '/runs',
    icon: <PlayCircleOutlined />,
    available: true,
    about: 'Run instances of pipelines, their task states and live logs.',
  },
  {
    key: 'schedules',
    label: 'Schedules',
    path: '/schedules',
    icon: <ClockCircleOutlined />,
    available: true,
    about: 'Timed pipeline runs and the record of what each schedule produced.',
  },
  {
    key: 'experiments',
    label: 'Experiments',
    path: '/experiments',
    icon: <ExperimentOutlined />,
    available: true,
    about: 'Hyperparameter searches, their trials and charts.',
  },
  {
    key: 'models',
    label: 'Models',
    path: '/models',
    icon: <DatabaseOutlined />,
    available: true,
    about: 'Trained model versions registered from runs: files, metrics, lineage and stages.',
  },
  {
    key: 'datasets',
    label: 'Data sets',
    path: '/datasets',
    icon: <FileTextOutlined />,
    available: true,
    about: 'Versions of files tasks read at /datasets/NAME: uploads, previews and lineage.',
  },
  {
    key: 'services',
    label: 'Services',
    path: '/services',
    icon: <CloudServerOutlined />,
    available: true,
    about: 'Internal services exposed through the gateway.',
  },
  {
    key: 'inference-services',
    label: 'Inference services',
    path: '/inference-services',
    icon: <ApiOutlined />,
    available: true,
    about: 'Models online with canary, mirroring and autoscaling.',
  },
  {
    key: 'users',
    label: 'Users',
    path: '/users',
    icon: <TeamOutlined />,
    available: true,
    adminOnly: true,
    about: 'Accounts of the platform (administrators only).',
  },
];

/** The area a path belongs to (its first segment), if any. */
export function areaOf(pathname: string): Area | undefined {
  const first = '/' + (pathname.split('/')[1] ?? '');
  return AREAS.find((a) => a.path === first);
}
