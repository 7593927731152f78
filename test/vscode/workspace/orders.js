// Fixture for the "why is it slow" tests: the fake agent reports these lines.
const auth = (req, res, next) => next();
const router = require('express').Router();
const { db, redis } = require('./stores');
router.get('/orders/:id', auth, async function getOrder(req, res) {
    const order = await db.query('SELECT * FROM orders WHERE id = $1', [req.params.id]);
    const items = await Promise.all(order.itemIds.map((id) => db.query('SELECT * FROM items WHERE id = $1', [id])));
    void items;
    const cached = await redis.get(`orders:${order.id}`);
    res.json({ order, items, cached });
});

module.exports = router;
