// Authentication errors and their aggregation as k8s.io/apimachinery's utilerrors.NewAggregate prints
// them: one error alone as itself, several de-duplicated, flattened and bracketed: "[a, b]". Messages here
// name what was wrong with a credential, never the credential itself.

export class AuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

/** Several authenticators' errors as one (union, bearer token); flattened when nested. */
export class AggregateAuthenticationError extends AuthenticationError {
  readonly errors: Error[];
  constructor(errors: Error[]) {
    super(formatAggregate(errors));
    this.name = 'AggregateAuthenticationError';
    this.errors = errors;
  }
}

function flatten(errors: Error[], out: string[]): void {
  for (const e of errors) {
    if (e instanceof AggregateAuthenticationError) flatten(e.errors, out);
    else out.push(e.message);
  }
}

/** Go's aggregate.Error(): unique messages in order, bracketed when more than one. */
export function formatAggregate(errors: Error[]): string {
  if (errors.length === 0) return '';
  if (errors.length === 1 && !(errors[0] instanceof AggregateAuthenticationError)) return errors[0]!.message;
  const all: string[] = [];
  flatten(errors, all);
  const unique = [...new Set(all)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}

/** The line kube-apiserver logs when a request fails authentication with errors. */
export const authenticationFailureLogLine = (err: Error): string => `Unable to authenticate the request due to an error: ${err.message}`;
