/**
 * The two names lambdaConfig.ts needs from the SDK's SSM client, in a module of their own: it imports
 * this one on demand (only when a password path is configured), and a dynamic import of the SDK package
 * itself would put all of its commands into the bundle.
 */
export { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
