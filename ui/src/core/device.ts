/** The browser's device id (docs/design/auth.md): random, made once, kept in localStorage, sent at sign-in. */
export function deviceId(): string {
  const KEY = "stablerail.deviceId";
  let id = localStorage.getItem(KEY);
  if (!id || !/^[A-Za-z0-9_-]{8,128}$/.test(id)) {
    id = crypto.randomUUID().replace(/-/g, "");
    localStorage.setItem(KEY, id);
  }
  return id;
}
