// Thin client for the Quader REST API (docs/api.md). Every call sends the stored
// token as `Authorization: Bearer …`; a 401 from any call (other than the login
// itself) drops the token and hands control to the handler set by the AuthProvider,
// which sends the user to /login.

export const API_BASE = '/api/v1';
const TOKEN_KEY = 'quader.token';

export type Role = 'creator' | 'dev' | 'ops';
export const ROLES: Role[] = ['creator', 'dev', 'ops'];

export interface User {
  username: string;
  email: string;
  admin: boolean;
  active: boolean;
  created_at: string;
  updated_at: string;
}

export interface Project {
  name: string;
  description: string;
  expand: Record<string, unknown>;
  created_by: string;
  created_at: string;
  updated_at: string;
  role: Role | null;
}

export interface Member {
  username: string;
  role: Role;
  created_at: string;
}

export interface Me {
  user: User;
  projects: { name: string; role: Role }[];
}

export interface LoginResult {
  token: string;
  expires_at: string;
  user: User;
}

export interface List<T> {
  items: T[];
}

/** An error answered by the server (or a network failure, status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** The text to show the user for any thrown value: the server's `error.message` verbatim. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

export function getToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

let onUnauthorized: (() => void) | null = null;
export function setUnauthorizedHandler(fn: (() => void) | null): void {
  onUnauthorized = fn;
}

interface RequestOptions {
  /** Do not treat a 401 as "session over" (used by the login form: 401 = wrong password). */
  noAuthRedirect?: boolean;
}

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  opts: RequestOptions = {},
): Promise<T> {
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'X-Requested-With': 'quader',
  };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }

  let res: Response;
  try {
    res = await fetch(API_BASE + path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'network', `Cannot reach the server: ${errorText(e)}`);
  }

  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }

  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
    const apiErr = new ApiError(
      res.status,
      err?.code ?? 'unknown',
      err?.message ?? `HTTP ${res.status} ${res.statusText}`.trim(),
    );
    if (res.status === 401 && !opts.noAuthRedirect) {
      setToken(null);
      onUnauthorized?.();
    }
    throw apiErr;
  }
  return data as T;
}

const enc = encodeURIComponent;

export const api = {
  login: (username: string, password: string) =>
    request<LoginResult>('POST', '/login', { username, password }, { noAuthRedirect: true }),
  logout: () => request<Record<string, never>>('POST', '/logout', {}, { noAuthRedirect: true }),
  me: () => request<Me>('GET', '/me'),

  listUsers: () => request<List<User>>('GET', '/users'),
  createUser: (u: { username: string; password: string; email?: string; admin?: boolean }) =>
    request<User>('POST', '/users', u),
  updateUser: (name: string, u: { email?: string; password?: string; admin?: boolean; active?: boolean }) =>
    request<User>('PUT', `/users/${enc(name)}`, u),
  deleteUser: (name: string) => request<Record<string, never>>('DELETE', `/users/${enc(name)}`),

  listProjects: () => request<List<Project>>('GET', '/projects'),
  getProject: (name: string) => request<Project>('GET', `/projects/${enc(name)}`),
  createProject: (p: { name: string; description?: string; expand?: unknown }) =>
    request<Project>('POST', '/projects', p),
  updateProject: (name: string, p: { description?: string; expand?: unknown }) =>
    request<Project>('PUT', `/projects/${enc(name)}`, p),
  deleteProject: (name: string) => request<Record<string, never>>('DELETE', `/projects/${enc(name)}`),

  listMembers: (project: string) => request<List<Member>>('GET', `/projects/${enc(project)}/members`),
  addMember: (project: string, username: string, role: Role) =>
    request<Member>('POST', `/projects/${enc(project)}/members`, { username, role }),
  setMemberRole: (project: string, username: string, role: Role) =>
    request<Member>('PUT', `/projects/${enc(project)}/members/${enc(username)}`, { role }),
  removeMember: (project: string, username: string) =>
    request<Record<string, never>>('DELETE', `/projects/${enc(project)}/members/${enc(username)}`),
};

/** Formats a server timestamp (RFC 3339, UTC) for display; unknown formats pass through. */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
