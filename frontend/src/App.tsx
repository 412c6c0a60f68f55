// Routes: URLs are CVAT's (/projects, /tasks/:id, /tasks/:tid/jobs/:jid...) so links can be
// bookmarked and reloaded. The lists people land on (tasks, the home page, and jobs) are in the
// app shell; every other page is its own chunk (React.lazy), and the chunk of the page being
// opened is fetched at start, beside the session check, not after it.
import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router";
import { useSession } from "./auth/session";
import { Layout } from "./components/Layout";
import { ErrorBanner, Loading } from "./components/ui";
import { SignInPage, SignUpPage } from "./pages/auth/SignIn";
import JobsPage from "./pages/jobs/JobsPage";
import TasksPage from "./pages/tasks/TasksPage";

const CHUNKS = {
  projects: () => import("./pages/projects/ProjectsPage"),
  project: () => import("./pages/projects/ProjectPage"),
  task: () => import("./pages/tasks/TaskPage"),
  createTask: () => import("./pages/tasks/CreateTaskPage"),
  job: () => import("./pages/jobs/JobPage"),
  workspace: () => import("./pages/annotation/Workspace"),
  requests: () => import("./pages/requests/RequestsPage"),
  organization: () => import("./pages/organizations/OrganizationPage"),
  webhooks: () => import("./pages/webhooks/WebhooksPage"),
  admin: () => import("./pages/admin/AdminPage"),
  profile: () => import("./pages/profile/ProfilePage"),
};

/** The chunk a path opens (the same matching as the routes below). */
export function chunkFor(path: string): keyof typeof CHUNKS | null {
  const rules: [RegExp, keyof typeof CHUNKS][] = [
    [/^\/projects\/?$/, "projects"],
    [/^\/projects\/[^/]+/, "project"],
    [/^\/tasks\/create/, "createTask"],
    [/^\/tasks\/[^/]+\/jobs\/[^/]+\/details/, "job"],
    [/^\/tasks\/[^/]+\/jobs\//, "workspace"],
    [/^\/tasks\/[^/]+/, "task"],
    [/^\/requests/, "requests"],
    [/^\/organization/, "organization"],
    [/^\/webhooks/, "webhooks"],
    [/^\/admin/, "admin"],
    [/^\/profile/, "profile"],
  ];
  return rules.find(([pattern]) => pattern.test(path))?.[1] ?? null;
}

if (typeof window !== "undefined") {
  const first = chunkFor(window.location.pathname);
  if (first) void CHUNKS[first]();
}

const ProjectsPage = lazy(CHUNKS.projects);
const ProjectPage = lazy(CHUNKS.project);
const TaskPage = lazy(CHUNKS.task);
const CreateTaskPage = lazy(CHUNKS.createTask);
const JobPage = lazy(CHUNKS.job);
const Workspace = lazy(CHUNKS.workspace);
const RequestsPage = lazy(CHUNKS.requests);
const OrganizationPage = lazy(CHUNKS.organization);
const WebhooksPage = lazy(CHUNKS.webhooks);
const AdminPage = lazy(CHUNKS.admin);
const ProfilePage = lazy(CHUNKS.profile);

/** The signed-in user's pages; `bare`: without the header and menu (the annotation workspace). */
function RequireUser({ children, bare = false }: { children: ReactNode; bare?: boolean }) {
  const { user, loading, error, refresh } = useSession();
  const location = useLocation();
  // While the session is checked the page renders already, so its own requests go out beside
  // the check (the API refuses them without a session; then this sends the visitor to sign in).
  const framed = (node: ReactNode) => (bare ? <>{node}</> : <Layout>{node}</Layout>);
  if (loading) return framed(children);
  if (!user && error) {
    // the server could not say who this is (5xx, network): say so, do not pretend they signed out
    return (
      <main className="auth-page">
        <div className="card auth-card">
          <h1>The server did not answer</h1>
          <ErrorBanner error={error} onRetry={() => void refresh()} />
        </div>
      </main>
    );
  }
  if (!user) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/auth/login?next=${next}`} replace />;
  }
  return framed(children);
}

function page(node: ReactNode, bare = false) {
  return (
    <RequireUser bare={bare}>
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
      <Route path="/tasks/:tid/jobs/:jid" element={page(<Workspace />, true)} />
      <Route path="/tasks/:tid/jobs/:jid/details" element={page(<JobPage />)} />
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
