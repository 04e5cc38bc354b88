/**
 * What the deployment grants each function, in one place: the template test checks that each role
 * allows exactly this, and the bundle test checks that the bundle sends nothing else to DynamoDB.
 */

/**
 * What the sentinel loop sends (lib/adapters/dynamodb/store.ts as used by the sentinel loop, lib/runtime/sentinel/).
 * Listing masters is a Query of the index partition (a Scan would read the whole table, 14 days of
 * events included) and BatchGetItem for the records, 100 per request, rather than a GetItem each.
 */
export const SENTINEL_DYNAMODB_OPERATIONS = [
  'GetItem',
  'PutItem',
  'UpdateItem',
  'Query',
  'BatchGetItem',
] as const;

/** The actions a VPC-attached function needs for its network interfaces (no resource-level ARNs). */
export const VPC_ENI_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
] as const;

export const OWN_LOG_GROUP_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;

/** What a function needs to read the table's stream through an event source mapping. */
export const STREAM_READ_ACTIONS = [
  'dynamodb:DescribeStream',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:ListStreams',
] as const;

/** The failover function's use of the store (lib/runtime/resumeFailover.ts): no master list, no Scan. */
export const FAILOVER_DYNAMODB_OPERATIONS = ['GetItem', 'PutItem', 'UpdateItem', 'Query'] as const;

/** The notifier's markers (lib/adapters/dynamodb/eventLog.ts, DynamoNotifyMarkers). */
export const NOTIFY_DYNAMODB_OPERATIONS = ['Query', 'PutItem'] as const;
/** The only partitions the notifier reads and writes (its role's dynamodb:LeadingKeys condition). */
export const NOTIFY_PARTITION_PREFIXES = ['NOTIFIED#', 'ALERTED#'] as const;

/**
 * The API's view over the store (lib/commands/storeView.ts): reads of every item kind with GetItem,
 * Query and, to list the masters' records, BatchGetItem (no Scan); writes only in the masters'
 * partitions (the record, its index entry, the change counter next to the index, and the replica items
 * RESET deletes), which the role enforces with dynamodb:LeadingKeys.
 */
export const API_READ_DYNAMODB_OPERATIONS = ['GetItem', 'Query', 'BatchGetItem'] as const;
export const API_WRITE_DYNAMODB_OPERATIONS = ['PutItem', 'UpdateItem', 'DeleteItem'] as const;
export const API_WRITE_PARTITION_PREFIX = 'MASTER#';

/** Allowed actions per handler (serverless.yml `handler`). A new function must be added here. */
export const ALLOWED_ACTIONS_BY_HANDLER: Readonly<Record<string, readonly string[]>> = {
  'dist/sentinel.handler': [
    ...SENTINEL_DYNAMODB_OPERATIONS.map((op) => `dynamodb:${op}`),
    ...OWN_LOG_GROUP_ACTIONS,
    ...VPC_ENI_ACTIONS,
    // Used by Lambda, not the code: a failed invocation's record goes to the dead-letter queue.
    'sqs:SendMessage',
  ],
  'dist/failover.handler': [
    ...FAILOVER_DYNAMODB_OPERATIONS.map((op) => `dynamodb:${op}`),
    ...STREAM_READ_ACTIONS,
    'sqs:SendMessage',
    ...OWN_LOG_GROUP_ACTIONS,
    ...VPC_ENI_ACTIONS,
  ],
  'dist/notify.handler': [
    ...NOTIFY_DYNAMODB_OPERATIONS.map((op) => `dynamodb:${op}`),
    ...STREAM_READ_ACTIONS,
    'sns:Publish',
    'sqs:SendMessage',
    ...OWN_LOG_GROUP_ACTIONS,
  ],
  'dist/slack.handler': ['ssm:GetParameters', 'sqs:SendMessage', ...OWN_LOG_GROUP_ACTIONS],
  'dist/api.handler': [
    ...API_READ_DYNAMODB_OPERATIONS.map((op) => `dynamodb:${op}`),
    ...API_WRITE_DYNAMODB_OPERATIONS.map((op) => `dynamodb:${op}`),
    ...OWN_LOG_GROUP_ACTIONS,
  ],
};

/** Functions whose role differs from their handler's entry above (by logical id). */
export const ALLOWED_ACTIONS_BY_FUNCTION: Readonly<Record<string, readonly string[]>> = {
  // The read-only URLs (AWS_IAM, and publicApiUrl's): the API handler with a role that cannot write.
  ApiReadLambdaFunction: [
    ...API_READ_DYNAMODB_OPERATIONS.map((op) => `dynamodb:${op}`),
    ...OWN_LOG_GROUP_ACTIONS,
  ],
  ApiPublicLambdaFunction: [
    ...API_READ_DYNAMODB_OPERATIONS.map((op) => `dynamodb:${op}`),
    ...OWN_LOG_GROUP_ACTIONS,
  ],
};

/** Reading the Redis passwords (lib/runtime/lambdaConfig.ts): one path, decrypted by SSM. */
export const AUTH_PASSWORD_ACTIONS = ['ssm:GetParametersByPath', 'kms:Decrypt'] as const;

/** On +switch-master (lib/adapters/aws/switchMaster.ts). */
export const SWITCH_MASTER_ACTIONS = ['route53:ChangeResourceRecordSets', 'events:PutEvents'] as const;

/**
 * What each handler is also allowed when every optional deploy parameter is set (authPassParameterPath,
 * route53HostedZoneId and route53RecordName, eventBusName). Without them, exactly
 * ALLOWED_ACTIONS_BY_HANDLER.
 */
export const OPTIONAL_ACTIONS_BY_HANDLER: Readonly<Record<string, readonly string[]>> = {
  'dist/sentinel.handler': AUTH_PASSWORD_ACTIONS,
  'dist/failover.handler': AUTH_PASSWORD_ACTIONS,
  'dist/notify.handler': SWITCH_MASTER_ACTIONS,
};

export const SENTINEL_IDS = ['sentinel-a', 'sentinel-b', 'sentinel-c'] as const;
