/**
 * vitest globalSetup: one DynamoDB Local JVM for the whole run (it takes ~2 s to start).
 * Test files read its endpoint with `inject('dynamodbEndpoint')` (or LS_TEST_DYNAMODB_ENDPOINT) and each
 * creates its own uniquely named table, so files can run in parallel against the same JVM.
 */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from './dynamodbLocal.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}

export const DYNAMODB_ENDPOINT_ENV = 'LS_TEST_DYNAMODB_ENDPOINT';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dynamo = await startDynamoDbLocal();
  project.provide('dynamodbEndpoint', dynamo.endpoint);
  process.env[DYNAMODB_ENDPOINT_ENV] = dynamo.endpoint;
  return async () => {
    await dynamo.stop();
  };
}
