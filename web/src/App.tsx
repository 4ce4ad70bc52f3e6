import { Navigate, Route, Routes } from 'react-router';
import { AuthProvider } from './auth';
import AppLayout from './components/AppLayout';
import RequireAuth from './components/RequireAuth';
import BuildDetailPage from './pages/BuildDetailPage';
import ImagesPage from './pages/ImagesPage';
import LoginPage from './pages/LoginPage';
import NotFoundPage from './pages/NotFoundPage';
import ProjectDetailPage from './pages/ProjectDetailPage';
import ProjectsPage from './pages/ProjectsPage';
import UsersPage from './pages/UsersPage';

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
          <Route path="images" element={<ImagesPage tab="images" />} />
          <Route path="images/builds" element={<ImagesPage tab="builds" />} />
          <Route path="images/builds/:id" element={<BuildDetailPage />} />
          <Route path="users" element={<UsersPage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Routes>
    </AuthProvider>
  );
}
