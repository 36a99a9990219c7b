// v1 Event (core): what controllers report about objects. `kubectl describe` finds an object's events by
// field selector on involvedObject.*, so those fields are selectable.
import { kindSchema } from '../api/meta-schema.js';
import { ALL_VERBS, type ResourceDefinition } from '../api/registry.js';
import { int32, microTime, obj, str, time } from '../api/schema.js';
import { age, NAME_COLUMN } from '../api/table.js';
import { isDNS1123Subdomain } from '../api/validation.js';
import { objectReferenceSchema } from './serviceaccounts.js';
import type { KubeObject } from '../apis/objects.js';

interface Event extends KubeObject {
  involvedObject?: Record<string, string | undefined>;
  reason?: string;
  message?: string;
  source?: { component?: string; host?: string };
  type?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  reportingComponent?: string;
  reportingInstance?: string;
  series?: { count?: number; lastObservedTime?: string };
}

const ev = (o: KubeObject) => o as Event;

interface EventTimes {
  lastSeen: string;
  firstSeen: string;
  count: number;
}

/** kube's printEvent: first seen from firstTimestamp or eventTime, last seen from lastTimestamp or the first, a series overriding both. */
const eventTimes = (e: Event, now: Date): EventTimes => {
  const firstSeen = age(e.firstTimestamp ?? e.eventTime, now);
  let lastSeen = e.lastTimestamp ? age(e.lastTimestamp, now) : firstSeen;
  let count = e.count ?? 0;
  if (e.series) {
    lastSeen = age(e.series.lastObservedTime, now);
    count = e.series.count ?? 0;
  } else if (count === 0) count = 1; // singleton events of the events.k8s.io API carry no count
  return { lastSeen, firstSeen, count };
};

/** formatEventSource: the component (or reporting controller), then ", host" (or reporting instance) when known. */
const eventSource = (e: Event): string => {
  const component = e.source?.component || e.reportingComponent || '';
  const instance = e.source?.host || e.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
};

export const events: ResourceDefinition = {
  group: '',
  version: 'v1',
  kind: 'Event',
  listKind: 'EventList',
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  namespaced: true,
  verbs: ALL_VERBS,
  schema: kindSchema({
    name: 'io.k8s.api.core.v1.Event',
    group: '',
    version: 'v1',
    kind: 'Event',
    description: 'Event is a report of an event somewhere in the cluster.',
    required: ['metadata', 'involvedObject'],
    properties: {
      action: str('What action was taken/failed regarding to the Regarding object.'),
      count: int32('The number of times this event has occurred.'),
      eventTime: microTime('Time when this Event was first observed (microsecond precision).'),
      firstTimestamp: time('The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)'),
      involvedObject: objectReferenceSchema,
      lastTimestamp: time('The time at which the most recent occurrence of this event was recorded.'),
      message: str('A human-readable description of the status of this operation.'),
      reason: str('This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.'),
      related: objectReferenceSchema,
      reportingComponent: str('Name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`.'),
      reportingInstance: str('ID of the controller instance, e.g. `kubelet-xyzf`.'),
      series: obj(
        { count: int32('Number of occurrences in this series up to the last heartbeat time.'), lastObservedTime: microTime('Time of the last occurrence observed.') },
        { name: 'io.k8s.api.core.v1.EventSeries', description: 'EventSeries contain information on series of events, i.e. thing that was/is happening continuously for some time.' },
      ),
      source: obj(
        { component: str('Component from which the event is generated.'), host: str('Node name on which the event is generated.') },
        { name: 'io.k8s.api.core.v1.EventSource', description: 'The component reporting this event.' },
      ),
      type: str('Type of this event (Normal, Warning), new types could be added in the future.'),
    },
  }),
  validateName: isDNS1123Subdomain,
  strategy: {},
  subresources: [],
  printer: {
    // kube's event columns; the wide ones (priority 1) are what `kubectl get events -o wide` adds.
    columns: [
      { name: 'Last Seen', type: 'string', description: 'The time at which the most recent occurrence of this event was recorded.' },
      { name: 'Type', type: 'string', description: 'Type of this event (Normal, Warning), new types could be added in the future' },
      { name: 'Reason', type: 'string', description: 'This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.' },
      { name: 'Object', type: 'string', description: 'The object that this event is about.' },
      { name: 'Subobject', type: 'string', priority: 1, description: 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].' },
      { name: 'Source', type: 'string', priority: 1, description: 'The component reporting this event. Should be a short machine understandable string.' },
      { name: 'Message', type: 'string', description: 'A human-readable description of the status of this operation.' },
      { name: 'First Seen', type: 'string', priority: 1, description: 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)' },
      { name: 'Count', type: 'string', priority: 1, description: 'The number of times this event has occurred.' },
      { ...NAME_COLUMN, priority: 1 },
    ],
    cells: (o, now) => {
      const e = ev(o);
      const io = e.involvedObject ?? {};
      const kind = (io['kind'] ?? '').toLowerCase();
      const target = io['name'] ? `${kind}/${io['name']}` : kind;
      const t = eventTimes(e, now);
      return [t.lastSeen, e.type ?? '', e.reason ?? '', target, io['fieldPath'] ?? '', eventSource(e), (e.message ?? '').trim(), t.firstSeen, t.count, e.metadata.name ?? ''];
    },
  },
  fieldSelectors: {
    'involvedObject.kind': (o) => ev(o).involvedObject?.['kind'],
    'involvedObject.namespace': (o) => ev(o).involvedObject?.['namespace'],
    'involvedObject.name': (o) => ev(o).involvedObject?.['name'],
    'involvedObject.uid': (o) => ev(o).involvedObject?.['uid'],
    'involvedObject.apiVersion': (o) => ev(o).involvedObject?.['apiVersion'],
    'involvedObject.resourceVersion': (o) => ev(o).involvedObject?.['resourceVersion'],
    'involvedObject.fieldPath': (o) => ev(o).involvedObject?.['fieldPath'],
    reason: (o) => ev(o).reason,
    reportingComponent: (o) => ev(o).reportingComponent,
    source: (o) => ev(o).source?.component,
    type: (o) => ev(o).type,
  },
};
