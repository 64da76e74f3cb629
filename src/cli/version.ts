/** Set at compile time by scripts/build.ts (`--define`); 'dev' when run from source. */
declare const KILN_VERSION: string | undefined;
declare const KILN_COMMIT: string | undefined;

export const version = typeof KILN_VERSION === 'string' ? KILN_VERSION : '0.1.0-dev';
export const commit = typeof KILN_COMMIT === 'string' ? KILN_COMMIT : 'unknown';
