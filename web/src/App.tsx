import { Spin } from 'antd';
import { lazy, Suspense, type ReactNode } from 'react';
import { Navigate, Route, Routes } from 'react-router';
import { AuthProvider } from './auth';
import AppLayout from './components/AppLayout';
import RequireAuth from './components/RequireAuth';
import BuildDetailPage from './pages/BuildDetailPage';
import ExperimentPage from './pages/ExperimentPage';
import ExperimentsPage from './pages/ExperimentsPage';
import ImagesPage from './pages/ImagesPage';
import LoginPage from './pages/LoginPage';
import DatasetPage from './pages/DatasetPage';
import DatasetsPage from './pages/DatasetsPage';
import ModelPage from './pages/ModelPage';
import ModelsPage from './pages/ModelsPage';
import NotFoundPage from './pages/NotFoundPage';
import NotebooksPage from './pages/NotebooksPage';
import ProjectDetailPage from './pages/ProjectDetailPage';
import PipelinesPage from './pages/PipelinesPage';
import ProjectsPage from './pages/ProjectsPage';
import RunsPage from './pages/RunsPage';
import SchedulesPage from './pages/SchedulesPage';
import ServicePage from './pages/ServicePage';
import ServicesPage from './pages/ServicesPage';
import TemplateDetailPage from './pages/TemplateDetailPage';
import TemplatesPage from './pages/TemplatesPage';
import UsersPage from './pages/UsersPage';

// The pages with a DAG canvas (React Flow) load on first use, keeping it out of the main bundle.
const PipelineEditorPage = lazy(() => import('./pages/PipelineEditorPage'));
const RunPage = lazy(() => import('./pages/RunPage'));

function Lazy({ children }: { children: ReactNode }) {
  return (
    <Suspense
      fallback={
        <div style={{ display: 'flex', justifyContent: 'center', marginTop: 80 }}>
          <Spin size="large" />
        </div>
      }
    >
      {children}
    </Suspense>
  );
}

export default function App() {
  return (
    <AuthProvider>
      <Routes>
        <Route path="/login" element={<LoginPage />} />
        <Route
          element={
            <RequireAuth>
              <AppLayout />
            </RequireAuth>
          }
        >
          <Route index element={<Navigate to="/projects" replace />} />
          <Route path="projects" element={<ProjectsPage />} />
          <Route path="projects/:name" element={<ProjectDetailPage />} />
          <Route path="notebooks" element={<NotebooksPage />} />
          <Route path="images" element={<ImagesPage tab="images" />} />
          <Route path="images/builds" element={<ImagesPage tab="builds" />} />
          <Route path="images/builds/:id" element={<BuildDetailPage />} />
          <Route path="templates" element={<TemplatesPage />} />
          <Route path="templates/:id" element={<TemplateDetailPage />} />
          <Route path="pipelines" element={<PipelinesPage />} />
          <Route path="pipelines/new" element={<Lazy><PipelineEditorPage /></Lazy>} />
          <Route path="pipelines/:id" element={<Lazy><PipelineEditorPage /></Lazy>} />
          <Route path="runs" element={<RunsPage />} />
          <Route path="runs/:id" element={<Lazy><RunPage /></Lazy>} />
          <Route path="schedules" element={<SchedulesPage />} />
          <Route path="experiments" element={<ExperimentsPage />} />
          <Route path="experiments/:id" element={<ExperimentPage />} />
          <Route path="services" element={<ServicesPage key="services" kind="services" />} />
          <Route path="services/:id" element={<ServicePage key="services" kind="services" />} />
          <Route path="inference-services" element={<ServicesPage key="inference-services" kind="inference-services" />} />
          <Route path="inference-services/:id" element={<ServicePage key="inference-services" kind="inference-services" />} />
          <Route path="models" element={<ModelsPage />} />
          <Route path="models/:id" element={<ModelPage />} />
          <Route path="datasets" element={<DatasetsPage />} />
          <Route path="datasets/:id" element={<DatasetPage />} />
          <Route path="users" element={<UsersPage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Routes>
    </AuthProvider>
  );
}
