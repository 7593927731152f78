/**
 * The one wire protocol module shared by agent, extension and webview.
 * Imports nothing from vscode, express, ws or the DOM.
 */
export * from './types';
export * from './commands';
export * from './messages';
export * from './http';
export * from './discovery';
export * from './webview';
