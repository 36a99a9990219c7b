// authentication.k8s.io/v1 TokenReview: create-only, never stored; the server's own authenticator chain
// judges the token (webhook token authenticators and extension API servers use it). The logic is
// src/auth/reviews.ts; this is its API description.
import { kindSchema } from '../api/meta-schema.js';
import type { ResourceDefinition } from '../api/registry.js';
import { arrayOf, bool, obj, str } from '../api/schema.js';
import { isPathSegmentName } from '../api/validation.js';
import { tokenReview, type TokenReviewObject } from '../auth/reviews.js';
import type { Authenticator } from '../auth/types.js';
import { userInfoSchema } from './selfsubjectreviews.js';

const GROUP = 'authentication.k8s.io';

export function tokenReviews(deps: { authenticator: Authenticator; apiAudiences: string[] }): ResourceDefinition {
  return {
    group: GROUP,
    version: 'v1',
    kind: 'TokenReview',
    listKind: 'TokenReviewList',
    plural: 'tokenreviews',
    singular: 'tokenreview',
    shortNames: [],
    namespaced: false,
    verbs: ['create'],
    schema: kindSchema({
      name: 'io.k8s.api.authentication.v1.TokenReview',
      group: GROUP,
      version: 'v1',
      kind: 'TokenReview',
      description: 'TokenReview attempts to authenticate a token to a known user.',
      required: ['spec'],
      properties: {
        spec: obj(
          {
            audiences: arrayOf(str(), { listType: 'atomic', description: 'Audiences is a list of the identifiers that the resource server presented with the token identifies as.' }),
            token: str('Token is the opaque bearer token.'),
          },
          { name: 'io.k8s.api.authentication.v1.TokenReviewSpec', description: 'Spec holds information about the request being evaluated.' },
        ),
        status: obj(
          {
            audiences: arrayOf(str(), { listType: 'atomic', description: 'Audiences are audience identifiers chosen by the authenticator that are compatible with both the TokenReview and token.' }),
            authenticated: bool('Authenticated indicates that the token was associated with a known user.'),
            error: str('Error indicates that the token couldn\'t be checked.'),
            user: { ...userInfoSchema, description: 'User is the UserInfo associated with the provided token.' },
          },
          { name: 'io.k8s.api.authentication.v1.TokenReviewStatus', description: 'Status is filled in by the server and indicates whether the request can be authenticated.' },
        ),
      },
    }),
    validateName: isPathSegmentName,
    strategy: {},
    subresources: [],
    async virtualCreate(object) {
      return tokenReview({ authenticator: deps.authenticator, apiAudiences: deps.apiAudiences, review: object as TokenReviewObject });
    },
  };
}
