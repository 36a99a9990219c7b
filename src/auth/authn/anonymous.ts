// The anonymous authenticator (--anonymous-auth): a request nobody else identified becomes
// system:anonymous in system:unauthenticated. The union only falls back to it when no authenticator
// reported an error, so a bad credential is a 401, never anonymous access.
import type { Authenticator } from '../types.js';
import { GROUP_UNAUTHENTICATED, USER_ANONYMOUS } from '../../apis/names.js';

export const anonymousAuthenticator: Authenticator = {
  name: 'anonymous',
  async authenticate() {
    return { user: { username: USER_ANONYMOUS, groups: [GROUP_UNAUTHENTICATED] } };
  },
};
