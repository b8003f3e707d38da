export { QuotaService, type QuotaDemand, type QuotaView, type UsageView } from './quota-service.js';
export { footprintOf } from './usage.js';
