declare const __ROUTELENS_VERSION__: string;

/** The package version, set by the build (scripts/build.mjs); `0.0.0-dev` when run from source. */
export const CLI_VERSION: string = typeof __ROUTELENS_VERSION__ === 'string' ? __ROUTELENS_VERSION__ : '0.0.0-dev';
