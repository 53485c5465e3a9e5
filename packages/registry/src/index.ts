export { OPERATOR_ROLES, type OperatorRole } from '@city/core';
export {
  createDeviceRegistry,
  type AddResult,
  type ChangeKind,
  type DeviceFilter,
  type DeviceRegistry,
  type DeviceRegistryOptions,
  type ImportOptions,
  type ImportResult,
  type RegistryChange,
  type RegistryEntity,
  type RegistryWatch,
  type VerifyResult,
} from './create-device-registry.ts';
export { TOKEN_BYTES, generateToken, hashToken, tokenMatchesHash } from './credential-token.ts';
export {
  DeviceInputSchema,
  MAX_EXPECTED_INTERVAL_MS,
  MIN_EXPECTED_INTERVAL_MS,
  OPERATOR_USERNAME_PREFIX,
  OperatorNameSchema,
  OperatorRoleSchema,
  operatorUsername,
  type DeviceCredential,
  type DeviceInput,
  type DeviceRecord,
  type OperatorCredential,
  type OperatorRecord,
} from './device-input.ts';
export {
  INVENTORY_COLUMNS,
  checkDeviceInput,
  formatInventoryError,
  inventoryFormatOf,
  parseInventory,
  parseTagList,
  type InventoryError,
  type InventoryFormat,
  type InventoryRow,
  type ParsedInventory,
} from './parse-inventory.ts';
