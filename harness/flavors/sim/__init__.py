"""flavors.sim"""
