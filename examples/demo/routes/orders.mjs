/** Order routes: the same order read item by item (an N+1 over HTTP), and in one batched call. */
import { inventoryUrl } from '../inventory.mjs';

const ITEMS_PER_ORDER = 6;

function itemIds(orderId) {
  return Array.from({ length: ITEMS_PER_ORDER }, (_, i) => orderId * 10 + i);
}

function orderId(req) {
  const id = req.params.id;
  return /^\d{1,6}$/.test(id) ? Number(id) : undefined;
}

/** One request to the inventory per item, one after another: RouteLens reports it as an N+1. */
export function getOrder() {
  return async (req, res) => {
    const id = orderId(req);
    if (id === undefined) return res.status(404).json({ error: 'no such order' });
    const base = await inventoryUrl();
    const items = [];
    for (const itemId of itemIds(id)) {
      const answer = await fetch(`${base}/items/${itemId}`);
      items.push(await answer.json());
    }
    res.json({ id, items });
  };
}

/** The same order with all its items in one request. */
export function getOrderBatched() {
  return async (req, res) => {
    const id = orderId(req);
    if (id === undefined) return res.status(404).json({ error: 'no such order' });
    const answer = await fetch(`${await inventoryUrl()}/items?ids=${itemIds(id).join(',')}`);
    res.json({ id, items: await answer.json() });
  };
}
