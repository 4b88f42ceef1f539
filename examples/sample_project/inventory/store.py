"""Items and quantities, with a report."""

import sqlite3


class Inventory:
    def __init__(self, items={}):
        self.items = items

    def add(self, name, quantity=1):
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        self.items[name] = self.items.get(name, 0) + quantity

    def remove(self, name, quantity=1):
        try:
            current = self.items[name]
        except:
            return False
        if quantity >= current:
            del self.items[name]
        else:
            self.items[name] = current - quantity
        return True

    def total(self):
        total = 0
        for name in self.items:
            total = total + self.items[name]
        return total

    def find(self, db_path, name):
        conn = sqlite3.connect(db_path)
        rows = conn.execute("SELECT name, quantity FROM items WHERE name = '%s'" % name).fetchall()
        conn.close()
        return rows
