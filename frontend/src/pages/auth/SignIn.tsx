import { useEffect, useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";
import { api } from "../../api/client";
import { useSession } from "../../auth/session";
import { ErrorBanner } from "../../components/ui";

export function safeNext(next: string | null): string {
  // only paths of this app: never an absolute URL (an open redirect); a browser reads `/\\host`
  // as `//host` and drops tabs and newlines from URLs (`/\t/host`)
  return next && next.startsWith("/") && !next.startsWith("//") && !/[\\\t\r\n]/.test(next) ? next : "/tasks";
}

/** Whether the server lets anyone create an account. As CVAT's UI does, read from the API schema's
 * paths: a server with registration closed serves no /api/auth/register. No schema: open. */
export function registrationOpen(schema: unknown): boolean {
  const paths = schema && typeof schema === "object" ? (schema as { paths?: unknown }).paths : undefined;
  return !paths || typeof paths !== "object" || "/api/auth/register" in paths;
}

/** null until the schema is read (nothing is offered before: no flash of a closed door). */
function useRegistrationOpen(): boolean | null {
  const [open, setOpen] = useState<boolean | null>(null);
  useEffect(() => {
    let live = true;
    api.request<unknown>("GET", "/api/schema", { withOrg: false }).then(
      (schema) => live && setOpen(registrationOpen(schema)),
      () => live && setOpen(true), // the register form reports whatever the server answers
    );
    return () => {
      live = false;
    };
  }, []);
  return open;
}

export function SignInPage() {
  const { user, signIn } = useSession();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const canRegister = useRegistrationOpen();
  if (user) return <Navigate to={safeNext(params.get("next"))} replace />;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(username, password);
      navigate(safeNext(params.get("next")), { replace: true });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="auth-page">
      <form onSubmit={submit} className="card auth-card" aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in</h1>
        <ErrorBanner error={error} />
        <label>
          Username or email
          <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        {canRegister && (
          <p>
            New here? <Link to="/auth/register">Create an account</Link>
          </p>
        )}
      </form>
    </main>
  );
}

export function SignUpPage() {
  const { user, refresh } = useSession();
  const navigate = useNavigate();
  const [form, setForm] = useState({ username: "", email: "", first_name: "", last_name: "", password1: "", password2: "" });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const canRegister = useRegistrationOpen();
  if (user) return <Navigate to="/tasks" replace />;
  if (canRegister === false) {
    return (
      <main className="auth-page">
        <section className="card auth-card" aria-labelledby="sign-up-title">
          <h1 id="sign-up-title">Create an account</h1>
          <p>This server does not offer registration; ask an administrator for an account.</p>
          <p>
            Have an account? <Link to="/auth/login">Sign in</Link>
          </p>
        </section>
      </main>
    );
  }
  const field = (name: keyof typeof form, label: string, type = "text", autoComplete?: string) => (
    <label>
      {label}
      <input
        name={name}
        type={type}
        autoComplete={autoComplete}
        value={form[name]}
        onChange={(e) => setForm({ ...form, [name]: e.target.value })}
        required={name === "username" || name.startsWith("password")}
      />
    </label>
  );

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.request("POST", "/api/auth/register", { body: form, withOrg: false });
      await refresh();
      navigate("/tasks", { replace: true });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="auth-page">
      <form onSubmit={submit} className="card auth-card" aria-labelledby="sign-up-title">
        <h1 id="sign-up-title">Create an account</h1>
        <ErrorBanner error={error} />
        {field("username", "Username", "text", "username")}
        {field("email", "Email", "email", "email")}
        {field("first_name", "First name", "text", "given-name")}
        {field("last_name", "Last name", "text", "family-name")}
        {field("password1", "Password", "password", "new-password")}
        {field("password2", "Confirm password", "password", "new-password")}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Creating…" : "Create account"}
        </button>
        <p>
          Have an account? <Link to="/auth/login">Sign in</Link>
        </p>
      </form>
    </main>
  );
}
