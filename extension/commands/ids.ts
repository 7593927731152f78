/** Every command id of the extension (package.json `contributes.commands` lists the same ids). */
export const enum CommandId {
  OpenDashboard = 'routelens.openDashboard',
  Connect = 'routelens.connect',
  Disconnect = 'routelens.disconnect',
  ResetMetrics = 'routelens.resetMetrics',
  InvalidateCacheKey = 'routelens.invalidateCacheKey',
  InvalidateCachePattern = 'routelens.invalidateCachePattern',
  InvalidateCacheTag = 'routelens.invalidateCacheTag',
  ClearCacheNamespace = 'routelens.clearCacheNamespace',
  ResolveAlert = 'routelens.resolveAlert',
  SetAlertThreshold = 'routelens.setAlertThreshold',
  ShowSlowRequests = 'routelens.showSlowRequests',
  ExportReport = 'routelens.exportReport',
  ToggleCodeLenses = 'routelens.toggleCodeLenses',
  SelectAgent = 'routelens.selectAgent',
  CopyMcpConfiguration = 'routelens.copyMcpConfiguration',
  PauseMeasuring = 'routelens.pauseMeasuring',
  ResumeMeasuring = 'routelens.resumeMeasuring',
  CompareWithBaseline = 'routelens.compareWithBaseline',
  ShowFindings = 'routelens.showFindings',
  ShowRouteDetails = 'routelens.showRouteDetails',
  ProfileRoute = 'routelens.profileRoute',
}

/** Dry-run first; ask before removing more keys than this. */
export const CONFIRM_OVER_KEYS = 25;
