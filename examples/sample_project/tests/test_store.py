import unittest

from inventory import Inventory


class InventoryTest(unittest.TestCase):
    def test_add_and_total(self):
        inv = Inventory({})
        inv.add("apple", 3)
        inv.add("pear")
        assert inv.total() == 4

    def test_remove(self):
        inv = Inventory({"apple": 2})
        assert inv.remove("apple")
        assert inv.total() == 1
        assert not inv.remove("banana")


if __name__ == "__main__":
    unittest.main()
