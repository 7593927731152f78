/**
 * The one wire protocol module shared by agent, extension and webview.
 * Imports nothing from vscode, express, ws or the DOM, and no validation
 * library: the schemas and parsers of untrusted input are in ./validate.ts,
 * which the agent and the extension import on their own.
 */
export * from './types';
export * from './spans';
export * from './history';
export * from './commands';
export * from './messages';
export * from './http';
export * from './discovery';
export * from './webview';
export * from './feed';
export * from './format';
export * from './thresholds';
