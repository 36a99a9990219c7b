// authentication.k8s.io/v1 SelfSubjectReview (`kubectl auth whoami`): create-only, never stored; answers
// with the identity the server authenticated the request as.
import { kindSchema } from '../api/meta-schema.js';
import type { ResourceDefinition } from '../api/registry.js';
import { arrayOf, mapOf, obj, str } from '../api/schema.js';
import { isPathSegmentName } from '../api/validation.js';
import { formatTime } from '../util/time.js';

export const userInfoSchema = obj(
  {
    extra: mapOf(arrayOf(str()), 'Any additional information provided by the authenticator.'),
    groups: arrayOf(str(), { listType: 'atomic', description: 'The names of groups this user is a part of.' }),
    uid: str('A unique value that identifies this user across time.'),
    username: str('The name that uniquely identifies this user among all active users.'),
  },
  { name: 'io.k8s.api.authentication.v1.UserInfo', description: 'UserInfo holds the information about the user needed to implement the user.Info interface.' },
);

export const selfSubjectReviews: ResourceDefinition = {
  group: 'authentication.k8s.io',
  version: 'v1',
  kind: 'SelfSubjectReview',
  listKind: 'SelfSubjectReviewList',
  plural: 'selfsubjectreviews',
  singular: 'selfsubjectreview',
  shortNames: [],
  namespaced: false,
  verbs: ['create'],
  schema: kindSchema({
    name: 'io.k8s.api.authentication.v1.SelfSubjectReview',
    group: 'authentication.k8s.io',
    version: 'v1',
    kind: 'SelfSubjectReview',
    description: 'SelfSubjectReview contains the user information that the kube-apiserver has about the user making this request.',
    properties: {
      status: obj(
        { userInfo: { ...userInfoSchema, description: 'User attributes of the user making this request.' } },
        { name: 'io.k8s.api.authentication.v1.SelfSubjectReviewStatus', description: 'Status is filled in by the server with the user attributes.' },
      ),
    },
  }),
  validateName: isPathSegmentName,
  strategy: {},
  subresources: [],
  async virtualCreate(_obj, ctx) {
    const u = ctx.user;
    const userInfo: Record<string, unknown> = { username: u.username };
    if (u.uid) userInfo['uid'] = u.uid;
    if (u.groups.length > 0) userInfo['groups'] = u.groups;
    if (u.extra && Object.keys(u.extra).length > 0) userInfo['extra'] = u.extra;
    return {
      kind: 'SelfSubjectReview',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { creationTimestamp: formatTime(ctx.now) },
      status: { userInfo },
    };
  },
};
