// Routes: every page is its own chunk (React.lazy), so the shell stays small; URLs are CVAT's
// (/projects, /tasks/:id, /tasks/:tid/jobs/:jid...) so links can be bookmarked and reloaded.
import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router";
import { useSession } from "./auth/session";
import { Layout } from "./components/Layout";
import { Loading } from "./components/ui";
import { SignInPage, SignUpPage } from "./pages/auth/SignIn";

const ProjectsPage = lazy(() => import("./pages/projects/ProjectsPage"));
const ProjectPage = lazy(() => import("./pages/projects/ProjectPage"));
const TasksPage = lazy(() => import("./pages/tasks/TasksPage"));
const TaskPage = lazy(() => import("./pages/tasks/TaskPage"));
const CreateTaskPage = lazy(() => import("./pages/tasks/CreateTaskPage"));
const JobsPage = lazy(() => import("./pages/jobs/JobsPage"));
const JobPage = lazy(() => import("./pages/jobs/JobPage"));
const RequestsPage = lazy(() => import("./pages/requests/RequestsPage"));
const OrganizationPage = lazy(() => import("./pages/organizations/OrganizationPage"));
const WebhooksPage = lazy(() => import("./pages/webhooks/WebhooksPage"));
const AdminPage = lazy(() => import("./pages/admin/AdminPage"));
const ProfilePage = lazy(() => import("./pages/profile/ProfilePage"));

function RequireUser({ children }: { children: ReactNode }) {
  const { user, loading } = useSession();
  const location = useLocation();
  if (loading) return <Loading what="Signing in" />;
  if (!user) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/auth/login?next=${next}`} replace />;
  }
  return <Layout>{children}</Layout>;
}

function page(node: ReactNode) {
  return (
    <RequireUser>
      <Suspense fallback={<Loading />}>{node}</Suspense>
    </RequireUser>
  );
}

export function App() {
  return (
    <Routes>
      <Route path="/auth/login" element={<SignInPage />} />
      <Route path="/auth/register" element={<SignUpPage />} />
      <Route path="/" element={<Navigate to="/tasks" replace />} />
      <Route path="/projects" element={page(<ProjectsPage />)} />
      <Route path="/projects/:id" element={page(<ProjectPage />)} />
      <Route path="/tasks" element={page(<TasksPage />)} />
      <Route path="/tasks/create" element={page(<CreateTaskPage />)} />
      <Route path="/tasks/:id" element={page(<TaskPage />)} />
      <Route path="/tasks/:tid/jobs/:jid" element={page(<JobPage />)} />
      <Route path="/jobs" element={page(<JobsPage />)} />
      <Route path="/requests" element={page(<RequestsPage />)} />
      <Route path="/organization" element={page(<OrganizationPage />)} />
      <Route path="/webhooks" element={page(<WebhooksPage />)} />
      <Route path="/admin" element={page(<AdminPage />)} />
      <Route path="/profile" element={page(<ProfilePage />)} />
      <Route path="*" element={page(<NotFound />)} />
    </Routes>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>There is nothing at this address.</p>
    </section>
  );
}
