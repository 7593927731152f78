/**
 * Handler locations, looked up in batches off the request path (one `setImmediate` after
 * registration): V8's `[[FunctionLocation]]` through location.ts, then, for a route found by
 * walking a router (discover.ts), its registration site from the handler's. A NestJS route is
 * located at its controller method (nest.ts).
 */
import { functionLocations, registrationSite, sameLine } from './location';
import { type ModuleState, type RouteEntry, fullsOf, send, sharedLocation } from './model';

export function scheduleLookup(state: ModuleState, entry: RouteEntry): void {
  entry.handlerLocation = null; // queued: never twice
  state.lookups.push(entry);
  if (state.lookupScheduled) return;
  state.lookupScheduled = true;
  setImmediate(() => {
    state.lookupScheduled = false;
    const batch = state.lookups.splice(0);
    try {
      const throughNest: boolean[] = [];
      const locs = functionLocations(batch.map((e) => e.handler!), throughNest);
      locate(batch, locs, throughNest, (entry) => report(state, entry));
    } catch (err) {
      state.fail('express.handlerLocation', err);
    } finally {
      for (const entry of batch) if (entry.deferred) report(state, entry);
    }
  }).unref();
}

/** Sends an entry's definitions again, with the locations found (the first time for a deferred one). */
function report(state: ModuleState, entry: RouteEntry): void {
  entry.deferred = false;
  entry.location = sharedLocation(entry.location);
  entry.handlerLocation = sharedLocation(entry.handlerLocation);
  for (const full of fullsOf(entry)) {
    if (entry.location) full.location = entry.location;
    if (entry.handlerLocation) full.handlerLocation = entry.handlerLocation;
    for (const s of state.sinks) send(s.sink, full);
  }
}

/**
 * Sets each entry's locations from its handler's (`locs[i]`); calls `done` for every entry whose
 * definitions changed. A handler that is Nest's proxy (`throughNest[i]`) was located at the
 * controller method it calls: that method is both the route's location and its handler's, so the
 * lens sits on it rather than on the `app.listen()` line that started Nest's registration.
 */
function locate(batch: RouteEntry[], locs: Array<RouteEntry['location']>, throughNest: readonly boolean[], done: (entry: RouteEntry) => void): void {
  const unplaced: Array<[RouteEntry, RouteEntry['location']]> = [];
  batch.forEach((entry, i) => {
    const loc = locs[i];
    if (loc && throughNest[i] === true) {
      entry.nest = true;
      entry.location = loc;
      entry.handlerLocation = loc;
      done(entry);
    } else if (entry.discovered) {
      if (loc && placeDiscovered(entry, loc)) done(entry);
      else unplaced.push([entry, loc]);
    } else if (loc && !sameLine(loc, entry.location)) {
      entry.handlerLocation = loc;
      done(entry);
    }
  });
  // Again once the others are placed: their files are where this router's routes are registered.
  for (const [entry, loc] of unplaced) {
    if (loc && !placeDiscovered(entry, loc)) entry.handlerLocation = loc;
    done(entry);
  }
}

/**
 * A discovered route's locations from its handler's: the registration call found in the source
 * (location.ts's registrationSite) is its location, and the handler is reported only when it is
 * on another line, as for a registered route. False when no call is found (the caller then
 * reports the handler alone).
 */
function placeDiscovered(entry: RouteEntry, handler: NonNullable<RouteEntry['location']>): boolean {
  const site = registrationSite(handler, entry.method, entry.literal, entry.node.homeFiles);
  if (!site) return false;
  entry.location = site;
  entry.node.homeFiles.add(site.file);
  if (!sameLine(handler, site)) entry.handlerLocation = handler;
  return true;
}
