/** The application role's login in test databases (set by global setup with enableAppLogin). */
export const APP_PASSWORD = 'coop_app-test-password';

/** The same database as `ownerUrl`, logged in as the application role. */
export function asApplication(ownerUrl: string): string {
  const url = new URL(ownerUrl);
  url.username = 'coop_app';
  url.password = APP_PASSWORD;
  return url.toString();
}
