// Replaced by the DynamoDB Local harness (starts one JVM for the whole run).
export default async function setup(): Promise<void> {}
