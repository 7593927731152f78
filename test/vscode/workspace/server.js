// Fixture app for the extension-host tests: the fake agent reports these lines.
const express = require('express');
const app = express();

app.get('/users/:id', (req, res) => {
  res.json({ id: req.params.id });
});

app.post('/orders', createOrder);

function createOrder(req, res) {
  res.status(201).end();
}

app.get('/health', (req, res) => res.send('ok'));

module.exports = app;
