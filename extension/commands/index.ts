import type * as vscode from 'vscode';
import type { Services } from '../services';
import * as clearCacheNamespace from './clearCacheNamespace';
import * as compareWithBaseline from './compareWithBaseline';
import * as connect from './connect';
import * as copyMcpConfiguration from './copyMcpConfiguration';
import * as disconnect from './disconnect';
import * as exportReport from './exportReport';
import * as invalidateCacheKey from './invalidateCacheKey';
import * as invalidateCachePattern from './invalidateCachePattern';
import * as invalidateCacheTag from './invalidateCacheTag';
import * as openDashboard from './openDashboard';
import * as pauseMeasuring from './pauseMeasuring';
import * as profileRoute from './profileRoute';
import * as resetMetrics from './resetMetrics';
import * as resolveAlert from './resolveAlert';
import * as resumeMeasuring from './resumeMeasuring';
import * as selectAgent from './selectAgent';
import * as setAlertThreshold from './setAlertThreshold';
import * as showFindings from './showFindings';
import * as showRouteDetails from './showRouteDetails';
import * as showSlowRequests from './showSlowRequests';
import * as toggleCodeLenses from './toggleCodeLenses';

const ALL = [openDashboard, connect, disconnect, resetMetrics, invalidateCacheKey, invalidateCachePattern, invalidateCacheTag, clearCacheNamespace, resolveAlert, setAlertThreshold, showSlowRequests, exportReport, toggleCodeLenses, selectAgent, copyMcpConfiguration, pauseMeasuring, resumeMeasuring, compareWithBaseline, showFindings, showRouteDetails, profileRoute];

export function registerCommands(s: Services): vscode.Disposable[] {
  return ALL.map((c) => c.register(s));
}
