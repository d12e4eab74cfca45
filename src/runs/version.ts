/** The app version written into share links and reports (package.json "version"; a unit test keeps them equal). */
export const APP_VERSION = '0.1.0';
