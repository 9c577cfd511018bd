"""Install the a2j_ros ament_python package."""
from glob import glob
import os

from setuptools import find_packages, setup

PACKAGE = 'a2j_ros'


def _files(pattern):
    return [p for p in glob(pattern, recursive=True) if os.path.isfile(p)]


data_files = [
    ('share/ament_index/resource_index/packages', ['resource/' + PACKAGE]),
    ('share/' + PACKAGE, ['package.xml']),
    ('share/' + PACKAGE + '/launch', _files('launch/*.py')),
    ('share/' + PACKAGE + '/config', _files('config/*.yaml') + _files('config/*.rviz')),
    ('share/' + PACKAGE + '/config/train', _files('config/train/*.yaml')),
    ('share/' + PACKAGE + '/data', _files('data/*')),
]

setup(
    name=PACKAGE,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*']),
    data_files=data_files,
    install_requires=['setuptools'],
    extras_require={'test': ['pytest']},
    zip_safe=True,
    maintainer='a2j_ros maintainers',
    maintainer_email='maintainers@a2j-ros.dev',
    description='3D hand and body pose from depth images with A2J, for ROS 2.',
    license='MIT',
    entry_points={
        'console_scripts': [
            'a2j = a2j_ros.cli:main',
            'pose_node = a2j_ros.ros.pose_node:main',
        ],
    },
)
